;; The sums of a 2-D float32 matrix's columns (rows × columns → columns), four columns at
;; a time with WebAssembly SIMD, on the tfjs WASM backend's own memory (imported): a dense
;; layer's bias gradient, sum(dz, 0).
;;
;; Why: tfjs-backend-wasm's sum over axis 0 transposes the whole matrix first (its reduction
;; runs along rows) and then sums each row, two kernels and a copy at every layer of every
;; training step. Here each lane keeps one column's sum and adds the rows in order, from
;; 0, which is the order of tfjs's own sum (Sum.cc: sum = 0; sum += x, one value after the
;; other; float additions are not reassociated), so the result is the same bits (tested).
;; Compiled to column-sums-wasm.ts by `npm run build:wasm`.
(module
  (import "env" "memory" (memory 1))
  (func (export "columnSums")
    ;; Byte offsets of the input and the output, and the input's shape.
    (param $in i32) (param $out i32) (param $rows i32) (param $columns i32)
    (local $r i32) (local $c i32) (local $columnsEnd i32) (local $rowBytes i32) (local $at i32)
    (local $sums v128) (local $sum f32)
    (local.set $columnsEnd (i32.and (local.get $columns) (i32.const -4)))
    (local.set $rowBytes (i32.shl (local.get $columns) (i32.const 2)))
    ;; Four columns at a time.
    (block $blocksDone
      (loop $blocks
        (br_if $blocksDone (i32.ge_u (local.get $c) (local.get $columnsEnd)))
        (local.set $sums (f32x4.splat (f32.const 0)))
        (local.set $at (i32.add (local.get $in) (i32.shl (local.get $c) (i32.const 2))))
        (local.set $r (i32.const 0))
        (block $rowsDone
          (loop $rowsLoop
            (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
            (local.set $sums (f32x4.add (local.get $sums) (v128.load align=4 (local.get $at))))
            (local.set $at (i32.add (local.get $at) (local.get $rowBytes)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rowsLoop)))
        (v128.store align=4 (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2))) (local.get $sums))
        (local.set $c (i32.add (local.get $c) (i32.const 4)))
        (br $blocks)))
    ;; The last columns mod 4, one at a time, with the same additions.
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $c) (local.get $columns)))
        (local.set $sum (f32.const 0))
        (local.set $at (i32.add (local.get $in) (i32.shl (local.get $c) (i32.const 2))))
        (local.set $r (i32.const 0))
        (block $rowsDone2
          (loop $rowsLoop2
            (br_if $rowsDone2 (i32.ge_u (local.get $r) (local.get $rows)))
            (local.set $sum (f32.add (local.get $sum) (f32.load (local.get $at))))
            (local.set $at (i32.add (local.get $at) (local.get $rowBytes)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rowsLoop2)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2))) (local.get $sum))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $tail)))))
