;; One Adam update of one variable, four floats at a time (WebAssembly SIMD), on the
;; tfjs WASM backend's own memory (imported): the kernel reads value, gradient and both
;; moments where the backend keeps them and writes the three outputs in place of their
;; allocations, with no copy in or out.
;;
;; The arithmetic is trainer/wasm-adam-update.ts's reference loop operation by operation,
;; in the same order: f32 +, −, ×, ÷ and √ are correctly rounded in WebAssembly, lane by
;; lane, as Math.fround of the same double operation is, so the results are the same bits
;; (tested against the loop and against tfjs's own Adam). Compiled to
;; adam-update-wasm.ts by `npm run build:wasm` (wabt's wat2wasm); a test checks the
;; committed bytes are this file's.
(module
  (import "env" "memory" (memory 1))
  (func (export "adamUpdate")
    ;; Byte offsets into the memory, and the element count.
    (param $value i32) (param $gradient i32) (param $m i32) (param $v i32)
    (param $outValue i32) (param $outM i32) (param $outV i32) (param $n i32)
    ;; The scalars, as float32: β1, β2, 1−β1, 1−β2, 1−β1^t, 1−β2^t, ε, −learningRate.
    (param $beta1 f32) (param $beta2 f32) (param $oneMinusBeta1 f32) (param $oneMinusBeta2 f32)
    (param $c1 f32) (param $c2 f32) (param $epsilon f32) (param $step f32)
    (local $i i32) (local $o i32) (local $vectorEnd i32)
    (local $g v128) (local $mi v128) (local $vi v128)
    (local $b1 v128) (local $b2 v128) (local $ob1 v128) (local $ob2 v128)
    (local $vc1 v128) (local $vc2 v128) (local $veps v128) (local $vstep v128)
    (local $gs f32) (local $ms f32) (local $vs f32)
    (local.set $b1 (f32x4.splat (local.get $beta1)))
    (local.set $b2 (f32x4.splat (local.get $beta2)))
    (local.set $ob1 (f32x4.splat (local.get $oneMinusBeta1)))
    (local.set $ob2 (f32x4.splat (local.get $oneMinusBeta2)))
    (local.set $vc1 (f32x4.splat (local.get $c1)))
    (local.set $vc2 (f32x4.splat (local.get $c2)))
    (local.set $veps (f32x4.splat (local.get $epsilon)))
    (local.set $vstep (f32x4.splat (local.get $step)))
    (local.set $vectorEnd (i32.and (local.get $n) (i32.const -4)))
    ;; Four elements at a time.
    (block $vectorsDone
      (loop $vectors
        (br_if $vectorsDone (i32.ge_u (local.get $i) (local.get $vectorEnd)))
        (local.set $o (i32.shl (local.get $i) (i32.const 2)))
        (local.set $g (v128.load align=4 (i32.add (local.get $gradient) (local.get $o))))
        ;; m' = m·β1 + g·(1−β1)
        (local.set $mi
          (f32x4.add
            (f32x4.mul (v128.load align=4 (i32.add (local.get $m) (local.get $o))) (local.get $b1))
            (f32x4.mul (local.get $g) (local.get $ob1))))
        ;; v' = v·β2 + (g·g)·(1−β2)
        (local.set $vi
          (f32x4.add
            (f32x4.mul (v128.load align=4 (i32.add (local.get $v) (local.get $o))) (local.get $b2))
            (f32x4.mul (f32x4.mul (local.get $g) (local.get $g)) (local.get $ob2))))
        (v128.store align=4 (i32.add (local.get $outM) (local.get $o)) (local.get $mi))
        (v128.store align=4 (i32.add (local.get $outV) (local.get $o)) (local.get $vi))
        ;; w' = ((m'/c1) / (√(v'/c2) + ε))·(−lr) + w
        (v128.store align=4 (i32.add (local.get $outValue) (local.get $o))
          (f32x4.add
            (f32x4.mul
              (f32x4.div
                (f32x4.div (local.get $mi) (local.get $vc1))
                (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vi) (local.get $vc2))) (local.get $veps)))
              (local.get $vstep))
            (v128.load align=4 (i32.add (local.get $value) (local.get $o)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $vectors)))
    ;; The last n mod 4 elements, one at a time, with the same operations.
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $o (i32.shl (local.get $i) (i32.const 2)))
        (local.set $gs (f32.load (i32.add (local.get $gradient) (local.get $o))))
        (local.set $ms
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $m) (local.get $o))) (local.get $beta1))
            (f32.mul (local.get $gs) (local.get $oneMinusBeta1))))
        (local.set $vs
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $v) (local.get $o))) (local.get $beta2))
            (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $oneMinusBeta2))))
        (f32.store (i32.add (local.get $outM) (local.get $o)) (local.get $ms))
        (f32.store (i32.add (local.get $outV) (local.get $o)) (local.get $vs))
        (f32.store (i32.add (local.get $outValue) (local.get $o))
          (f32.add
            (f32.mul
              (f32.div
                (f32.div (local.get $ms) (local.get $c1))
                (f32.add (f32.sqrt (f32.div (local.get $vs) (local.get $c2))) (local.get $epsilon)))
              (local.get $step))
            (f32.load (i32.add (local.get $value) (local.get $o)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))))
