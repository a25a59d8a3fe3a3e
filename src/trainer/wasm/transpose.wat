;; The transpose of a 2-D float32 matrix (rows × columns → columns × rows), four by four
;; with WebAssembly SIMD shuffles, on the tfjs WASM backend's own memory (imported).
;;
;; Why: each dense layer's backward pass transposes its input and its kernel at every
;; training step (dense-op.ts: XNNPACK's matMul is fast only untransposed), and
;; tfjs-backend-wasm's general N-dimensional transpose took 8 % of a step for these few
;; small matrices. A transpose only moves values, so the result is the same bits (tested).
;; Compiled to transpose-wasm.ts by `npm run build:wasm`.
(module
  (import "env" "memory" (memory 1))
  (func (export "transpose2d")
    ;; Byte offsets of the input and the output, and the input's shape.
    (param $in i32) (param $out i32) (param $rows i32) (param $columns i32)
    (local $r i32) (local $c i32) (local $rowsEnd i32) (local $columnsEnd i32)
    (local $from i32) (local $to i32) (local $rowBytes i32) (local $columnBytes i32)
    (local $a v128) (local $b v128) (local $cc v128) (local $d v128)
    (local $ab02 v128) (local $ab13 v128) (local $cd02 v128) (local $cd13 v128)
    (local.set $rowsEnd (i32.and (local.get $rows) (i32.const -4)))
    (local.set $columnsEnd (i32.and (local.get $columns) (i32.const -4)))
    ;; Bytes from one input row to the next, and from one output row (an input column) to the next.
    (local.set $rowBytes (i32.shl (local.get $columns) (i32.const 2)))
    (local.set $columnBytes (i32.shl (local.get $rows) (i32.const 2)))
    ;; Blocks of four rows.
    (block $rowBlocksDone
      (loop $rowBlocks
        (br_if $rowBlocksDone (i32.ge_u (local.get $r) (local.get $rowsEnd)))
        (local.set $c (i32.const 0))
        ;; Four columns at a time: a 4 × 4 block, loaded as four rows, stored as four columns.
        (block $blocksDone
          (loop $blocks
            (br_if $blocksDone (i32.ge_u (local.get $c) (local.get $columnsEnd)))
            (local.set $from (i32.add (local.get $in) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $columns)) (local.get $c)) (i32.const 2))))
            (local.set $a (v128.load align=4 (local.get $from)))
            (local.set $b (v128.load align=4 (i32.add (local.get $from) (local.get $rowBytes))))
            (local.set $cc (v128.load align=4 (i32.add (local.get $from) (i32.shl (local.get $rowBytes) (i32.const 1)))))
            (local.set $d (v128.load align=4 (i32.add (local.get $from) (i32.mul (local.get $rowBytes) (i32.const 3)))))
            ;; a0 b0 a1 b1 | a2 b2 a3 b3 | c0 d0 c1 d1 | c2 d2 c3 d3
            (local.set $ab02 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a) (local.get $b)))
            (local.set $ab13 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a) (local.get $b)))
            (local.set $cd02 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $cc) (local.get $d)))
            (local.set $cd13 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $cc) (local.get $d)))
            (local.set $to (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $rows)) (local.get $r)) (i32.const 2))))
            ;; a0 b0 c0 d0, a1 b1 c1 d1, a2 b2 c2 d2, a3 b3 c3 d3
            (v128.store align=4 (local.get $to) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $ab02) (local.get $cd02)))
            (v128.store align=4 (i32.add (local.get $to) (local.get $columnBytes)) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $ab02) (local.get $cd02)))
            (v128.store align=4 (i32.add (local.get $to) (i32.shl (local.get $columnBytes) (i32.const 1))) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $ab13) (local.get $cd13)))
            (v128.store align=4 (i32.add (local.get $to) (i32.mul (local.get $columnBytes) (i32.const 3))) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $ab13) (local.get $cd13)))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $blocks)))
        ;; The last columns mod 4 of these four rows, one value at a time.
        (block $columnTailDone
          (loop $columnTail
            (br_if $columnTailDone (i32.ge_u (local.get $c) (local.get $columns)))
            (call $column (local.get $in) (local.get $out) (local.get $rows) (local.get $columns) (local.get $c) (local.get $r) (i32.add (local.get $r) (i32.const 4)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $columnTail)))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $rowBlocks)))
    ;; The last rows mod 4, every column.
    (local.set $c (i32.const 0))
    (block $rowTailDone
      (loop $rowTail
        (br_if $rowTailDone (i32.ge_u (local.get $c) (local.get $columns)))
        (call $column (local.get $in) (local.get $out) (local.get $rows) (local.get $columns) (local.get $c) (local.get $rowsEnd) (local.get $rows))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $rowTail))))
  ;; Column c of input rows [from, to) into output row c.
  (func $column (param $in i32) (param $out i32) (param $rows i32) (param $columns i32) (param $c i32) (param $from i32) (param $to i32)
    (local $r i32)
    (local.set $r (local.get $from))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $r) (local.get $to)))
        (f32.store
          (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $rows)) (local.get $r)) (i32.const 2)))
          (f32.load (i32.add (local.get $in) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $columns)) (local.get $c)) (i32.const 2)))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $each)))))
