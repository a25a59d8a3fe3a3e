;; The gradient through a ReLU from its output, dy · step(y), four floats at a time
;; (WebAssembly SIMD), on the tfjs WASM backend's own memory (imported).
;;
;; Why not a JavaScript loop: the factor depends on y's sign, which in a hidden layer is
;; as good as random, so a loop with a branch per element mispredicts half the time (≈ 10 ns
;; an element, 160 µs for a 256 × 64 batch, 8 % of a training step); here the factor is
;; chosen with lane masks, without branches.
;;
;; The values are tfjs's: step(y) is 1 where y > 0, NaN where y is NaN, else 0, and the
;; result is dy × that factor, one correctly rounded f32 multiplication per element, as
;; tfjs's mul of dy and step(y) is (tested bit for bit, negative zeros and NaN included).
;; Compiled to relu-mask-wasm.ts by `npm run build:wasm`.
(module
  (import "env" "memory" (memory 1))
  (func (export "reluMask")
    ;; Byte offsets of dy, y and the output, and the element count.
    (param $dy i32) (param $y i32) (param $out i32) (param $n i32)
    (local $i i32) (local $o i32) (local $vectorEnd i32)
    (local $yi v128) (local $ones v128) (local $nans v128) (local $zeros v128)
    (local $ys f32)
    (local.set $ones (f32x4.splat (f32.const 1)))
    (local.set $nans (f32x4.splat (f32.const nan)))
    (local.set $zeros (f32x4.splat (f32.const 0)))
    (local.set $vectorEnd (i32.and (local.get $n) (i32.const -4)))
    (block $vectorsDone
      (loop $vectors
        (br_if $vectorsDone (i32.ge_u (local.get $i) (local.get $vectorEnd)))
        (local.set $o (i32.shl (local.get $i) (i32.const 2)))
        (local.set $yi (v128.load align=4 (i32.add (local.get $y) (local.get $o))))
        ;; factor = y > 0 ? 1 : (y ≠ y ? NaN : 0); out = dy × factor
        (v128.store align=4 (i32.add (local.get $out) (local.get $o))
          (f32x4.mul
            (v128.load align=4 (i32.add (local.get $dy) (local.get $o)))
            (v128.bitselect
              (local.get $ones)
              (v128.bitselect (local.get $nans) (local.get $zeros) (f32x4.ne (local.get $yi) (local.get $yi)))
              (f32x4.gt (local.get $yi) (local.get $zeros)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $vectors)))
    ;; The last n mod 4 elements, one at a time, with the same operations.
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $o (i32.shl (local.get $i) (i32.const 2)))
        (local.set $ys (f32.load (i32.add (local.get $y) (local.get $o))))
        (f32.store (i32.add (local.get $out) (local.get $o))
          (f32.mul
            (f32.load (i32.add (local.get $dy) (local.get $o)))
            (select
              (f32.const 1)
              (select (f32.const nan) (f32.const 0) (f32.ne (local.get $ys) (local.get $ys)))
              (f32.gt (local.get $ys) (f32.const 0)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))))
