;; Training kernels with 128-bit SIMD that run on tfjs-wasm's own memory (imported), for the
;; work tfjs composes of many single-threaded passes or runs as naive loops: batch norm's
;; statistics and gradient, sums over leading axes (a bias gradient), the transposes of the conv
;; gradients, max pooling's gradient and Adam's update. JavaScript loops over the same data run
;; 5-10x slower than these.
;;
;; Every pointer is a byte offset into the memory; f32 arrays are 4-byte aligned, f64 ones
;; 8-byte aligned (unaligned v128 access is allowed, only slower). `rows x channels` arrays are
;; row-major with the channel innermost (NHWC flattened). Per-channel accumulators are f64 and
;; accumulate: the caller zeroes them.
;;
;; scripts/build-simd-kernels.mjs assembles this file (wabt) twice, into
;; generated/wasm-simd-kernels.ts: once importing plain memory (tfjs's single-threaded binaries) and
;; once shared memory (its threaded binary), by replacing the MEMORY line below.
(module
  (import "env" "memory" (memory 0)) ;; MEMORY

  ;; sum[j] += x[r, j], over every row r.
  (func (export "columnSums")
    (param $x i32) (param $rows i32) (param $channels i32) (param $sum i32)
    (local $r i32) (local $j i32) (local $wide i32) (local $v v128) (local $s i32)
    (local.set $wide (i32.and (local.get $channels) (i32.const -4)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $j (i32.const 0))
        (local.set $s (local.get $sum))
        (block $wideDone
          (loop $four
            (br_if $wideDone (i32.ge_u (local.get $j) (local.get $wide)))
            (local.set $v (v128.load (local.get $x)))
            (v128.store (local.get $s)
              (f64x2.add (v128.load (local.get $s)) (f64x2.promote_low_f32x4 (local.get $v))))
            (v128.store offset=16 (local.get $s)
              (f64x2.add (v128.load offset=16 (local.get $s))
                (f64x2.promote_low_f32x4
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (local.set $s (i32.add (local.get $s) (i32.const 32)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $four)))
        (block $tailDone
          (loop $one
            (br_if $tailDone (i32.ge_u (local.get $j) (local.get $channels)))
            (f64.store (local.get $s)
              (f64.add (f64.load (local.get $s)) (f64.promote_f32 (f32.load (local.get $x)))))
            (local.set $x (i32.add (local.get $x) (i32.const 4)))
            (local.set $s (i32.add (local.get $s) (i32.const 8)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $one)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; sum[j] += x[r, j]; squares[j] += x[r, j]^2, over every row r.
  (func (export "bnStats")
    (param $x i32) (param $rows i32) (param $channels i32) (param $sum i32) (param $squares i32)
    (local $r i32) (local $j i32) (local $wide i32) (local $v v128) (local $lo v128)
    (local $hi v128) (local $s i32) (local $q i32) (local $f f64)
    (local.set $wide (i32.and (local.get $channels) (i32.const -4)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $j (i32.const 0))
        (local.set $s (local.get $sum))
        (local.set $q (local.get $squares))
        (block $wideDone
          (loop $four
            (br_if $wideDone (i32.ge_u (local.get $j) (local.get $wide)))
            (local.set $v (v128.load (local.get $x)))
            (local.set $lo (f64x2.promote_low_f32x4 (local.get $v)))
            (local.set $hi (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
            (v128.store (local.get $s) (f64x2.add (v128.load (local.get $s)) (local.get $lo)))
            (v128.store offset=16 (local.get $s)
              (f64x2.add (v128.load offset=16 (local.get $s)) (local.get $hi)))
            (v128.store (local.get $q)
              (f64x2.add (v128.load (local.get $q)) (f64x2.mul (local.get $lo) (local.get $lo))))
            (v128.store offset=16 (local.get $q)
              (f64x2.add (v128.load offset=16 (local.get $q))
                (f64x2.mul (local.get $hi) (local.get $hi))))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (local.set $s (i32.add (local.get $s) (i32.const 32)))
            (local.set $q (i32.add (local.get $q) (i32.const 32)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $four)))
        (block $tailDone
          (loop $one
            (br_if $tailDone (i32.ge_u (local.get $j) (local.get $channels)))
            (local.set $f (f64.promote_f32 (f32.load (local.get $x))))
            (f64.store (local.get $s) (f64.add (f64.load (local.get $s)) (local.get $f)))
            (f64.store (local.get $q)
              (f64.add (f64.load (local.get $q)) (f64.mul (local.get $f) (local.get $f))))
            (local.set $x (i32.add (local.get $x) (i32.const 4)))
            (local.set $s (i32.add (local.get $s) (i32.const 8)))
            (local.set $q (i32.add (local.get $q) (i32.const 8)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $one)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; out[r, j] = (x[r, j] - mean[j]) * scale[j] + shift[j]  (f32).
  (func (export "bnApply")
    (param $x i32) (param $out i32) (param $rows i32) (param $channels i32) (param $mean i32)
    (param $scale i32) (param $shift i32)
    (local $r i32) (local $j i32) (local $wide i32)
    (local.set $wide (i32.shl (i32.and (local.get $channels) (i32.const -4)) (i32.const 2)))
    (local.set $channels (i32.shl (local.get $channels) (i32.const 2)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $j (i32.const 0))
        (block $wideDone
          (loop $four
            (br_if $wideDone (i32.ge_u (local.get $j) (local.get $wide)))
            (v128.store (i32.add (local.get $out) (local.get $j))
              (f32x4.add
                (f32x4.mul
                  (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $j)))
                    (v128.load (i32.add (local.get $mean) (local.get $j))))
                  (v128.load (i32.add (local.get $scale) (local.get $j))))
                (v128.load (i32.add (local.get $shift) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $four)))
        (block $tailDone
          (loop $one
            (br_if $tailDone (i32.ge_u (local.get $j) (local.get $channels)))
            (f32.store (i32.add (local.get $out) (local.get $j))
              (f32.add
                (f32.mul
                  (f32.sub (f32.load (i32.add (local.get $x) (local.get $j)))
                    (f32.load (i32.add (local.get $mean) (local.get $j))))
                  (f32.load (i32.add (local.get $scale) (local.get $j))))
                (f32.load (i32.add (local.get $shift) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $one)))
        (local.set $x (i32.add (local.get $x) (local.get $channels)))
        (local.set $out (i32.add (local.get $out) (local.get $channels)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; sumDy[j] += dy[r, j]; sumDyXc[j] += dy[r, j] * (x[r, j] - mean[j]), over every row r.
  (func (export "bnGradStats")
    (param $dy i32) (param $x i32) (param $rows i32) (param $channels i32) (param $mean i32)
    (param $sumDy i32) (param $sumDyXc i32)
    (local $r i32) (local $j i32) (local $wide i32) (local $d v128) (local $p v128)
    (local $s i32) (local $q i32) (local $m i32) (local $f f32)
    (local.set $wide (i32.and (local.get $channels) (i32.const -4)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $j (i32.const 0))
        (local.set $s (local.get $sumDy))
        (local.set $q (local.get $sumDyXc))
        (local.set $m (local.get $mean))
        (block $wideDone
          (loop $four
            (br_if $wideDone (i32.ge_u (local.get $j) (local.get $wide)))
            (local.set $d (v128.load (local.get $dy)))
            (local.set $p (f32x4.mul (local.get $d)
              (f32x4.sub (v128.load (local.get $x)) (v128.load (local.get $m)))))
            (v128.store (local.get $s)
              (f64x2.add (v128.load (local.get $s)) (f64x2.promote_low_f32x4 (local.get $d))))
            (v128.store offset=16 (local.get $s)
              (f64x2.add (v128.load offset=16 (local.get $s))
                (f64x2.promote_low_f32x4
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $d) (local.get $d)))))
            (v128.store (local.get $q)
              (f64x2.add (v128.load (local.get $q)) (f64x2.promote_low_f32x4 (local.get $p))))
            (v128.store offset=16 (local.get $q)
              (f64x2.add (v128.load offset=16 (local.get $q))
                (f64x2.promote_low_f32x4
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $p) (local.get $p)))))
            (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (local.set $m (i32.add (local.get $m) (i32.const 16)))
            (local.set $s (i32.add (local.get $s) (i32.const 32)))
            (local.set $q (i32.add (local.get $q) (i32.const 32)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $four)))
        (block $tailDone
          (loop $one
            (br_if $tailDone (i32.ge_u (local.get $j) (local.get $channels)))
            (local.set $f (f32.load (local.get $dy)))
            (f64.store (local.get $s)
              (f64.add (f64.load (local.get $s)) (f64.promote_f32 (local.get $f))))
            (f64.store (local.get $q)
              (f64.add (f64.load (local.get $q))
                (f64.promote_f32 (f32.mul (local.get $f)
                  (f32.sub (f32.load (local.get $x)) (f32.load (local.get $m)))))))
            (local.set $dy (i32.add (local.get $dy) (i32.const 4)))
            (local.set $x (i32.add (local.get $x) (i32.const 4)))
            (local.set $m (i32.add (local.get $m) (i32.const 4)))
            (local.set $s (i32.add (local.get $s) (i32.const 8)))
            (local.set $q (i32.add (local.get $q) (i32.const 8)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $one)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; dx[r, j] = a[j] * dy[r, j] + b[j] * (x[r, j] - mean[j]) + k[j]  (f32).
  (func (export "bnGradApply")
    (param $dy i32) (param $x i32) (param $dx i32) (param $rows i32) (param $channels i32)
    (param $mean i32) (param $a i32) (param $b i32) (param $k i32)
    (local $r i32) (local $j i32) (local $wide i32)
    (local.set $wide (i32.shl (i32.and (local.get $channels) (i32.const -4)) (i32.const 2)))
    (local.set $channels (i32.shl (local.get $channels) (i32.const 2)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $j (i32.const 0))
        (block $wideDone
          (loop $four
            (br_if $wideDone (i32.ge_u (local.get $j) (local.get $wide)))
            (v128.store (i32.add (local.get $dx) (local.get $j))
              (f32x4.add
                (f32x4.add
                  (f32x4.mul (v128.load (i32.add (local.get $a) (local.get $j)))
                    (v128.load (i32.add (local.get $dy) (local.get $j))))
                  (f32x4.mul (v128.load (i32.add (local.get $b) (local.get $j)))
                    (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $j)))
                      (v128.load (i32.add (local.get $mean) (local.get $j))))))
                (v128.load (i32.add (local.get $k) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $four)))
        (block $tailDone
          (loop $one
            (br_if $tailDone (i32.ge_u (local.get $j) (local.get $channels)))
            (f32.store (i32.add (local.get $dx) (local.get $j))
              (f32.add
                (f32.add
                  (f32.mul (f32.load (i32.add (local.get $a) (local.get $j)))
                    (f32.load (i32.add (local.get $dy) (local.get $j))))
                  (f32.mul (f32.load (i32.add (local.get $b) (local.get $j)))
                    (f32.sub (f32.load (i32.add (local.get $x) (local.get $j)))
                      (f32.load (i32.add (local.get $mean) (local.get $j))))))
                (f32.load (i32.add (local.get $k) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $one)))
        (local.set $dy (i32.add (local.get $dy) (local.get $channels)))
        (local.set $x (i32.add (local.get $x) (local.get $channels)))
        (local.set $dx (i32.add (local.get $dx) (local.get $channels)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; dst[j, k, i] = src[i, k, j] for i < a, k < m, j < b: [a, m, b] -> [b, m, a] (m = 1: a 2-D
  ;; transpose). Tiles of 8 x 8 keep both the reads and the writes within a few cache lines;
  ;; wasm's own Transpose walks the output element by element (~8 ns an element at [2048, 512]).
  (func (export "transposeOuter")
    (param $src i32) (param $dst i32) (param $a i32) (param $m i32) (param $b i32)
    (local $k i32) (local $i0 i32) (local $j0 i32) (local $i i32) (local $j i32) (local $i1 i32)
    (local $j1 i32) (local $srcRow i32) (local $dstRow i32) (local $srcStride i32)
    (local $dstStride i32)
    ;; Byte strides between consecutive i in src and consecutive j in dst.
    (local.set $srcStride (i32.shl (i32.mul (local.get $m) (local.get $b)) (i32.const 2)))
    (local.set $dstStride (i32.shl (i32.mul (local.get $m) (local.get $a)) (i32.const 2)))
    (block $kDone (loop $kLoop
      (br_if $kDone (i32.ge_u (local.get $k) (local.get $m)))
      (local.set $i0 (i32.const 0))
      (block $iDone (loop $iBlock
        (br_if $iDone (i32.ge_u (local.get $i0) (local.get $a)))
        (local.set $i1 (select (local.get $a) (i32.add (local.get $i0) (i32.const 8))
          (i32.lt_u (local.get $a) (i32.add (local.get $i0) (i32.const 8)))))
        (local.set $j0 (i32.const 0))
        (block $jDone (loop $jBlock
          (br_if $jDone (i32.ge_u (local.get $j0) (local.get $b)))
          (local.set $j1 (select (local.get $b) (i32.add (local.get $j0) (i32.const 8))
            (i32.lt_u (local.get $b) (i32.add (local.get $j0) (i32.const 8)))))
          (local.set $j (local.get $j0))
          (block $rowsDone (loop $rowLoop
            (br_if $rowsDone (i32.ge_u (local.get $j) (local.get $j1)))
            ;; dst[j, k, i0..i1) from src[i0..i1, k, j].
            (local.set $dstRow (i32.add (local.get $dst) (i32.add
              (i32.mul (local.get $j) (local.get $dstStride))
              (i32.shl (i32.add (i32.mul (local.get $k) (local.get $a)) (local.get $i0)) (i32.const 2)))))
            (local.set $srcRow (i32.add (local.get $src) (i32.add
              (i32.mul (local.get $i0) (local.get $srcStride))
              (i32.shl (i32.add (i32.mul (local.get $k) (local.get $b)) (local.get $j)) (i32.const 2)))))
            (local.set $i (local.get $i0))
            (block $colsDone (loop $colLoop
              (br_if $colsDone (i32.ge_u (local.get $i) (local.get $i1)))
              (f32.store (local.get $dstRow) (f32.load (local.get $srcRow)))
              (local.set $dstRow (i32.add (local.get $dstRow) (i32.const 4)))
              (local.set $srcRow (i32.add (local.get $srcRow) (local.get $srcStride)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $colLoop)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $rowLoop)))
          (local.set $j0 (local.get $j1))
          (br $jBlock)))
        (local.set $i0 (local.get $i1))
        (br $iBlock)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $kLoop))))

  ;; dst[k, i, :] = src[i, k, :] for i < a, k < m, rows of b values: [a, m, b] -> [m, a, b], each
  ;; row copied four lanes at a time (then one by one for the last b % 4).
  (func (export "swapLeading")
    (param $src i32) (param $dst i32) (param $a i32) (param $m i32) (param $b i32)
    (local $i i32) (local $k i32) (local $from i32) (local $to i32) (local $end i32)
    (local $wideEnd i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $b) (i32.const 2)))
    (block $iDone (loop $iLoop
      (br_if $iDone (i32.ge_u (local.get $i) (local.get $a)))
      (local.set $k (i32.const 0))
      (block $kDone (loop $kLoop
        (br_if $kDone (i32.ge_u (local.get $k) (local.get $m)))
        (local.set $from (i32.add (local.get $src) (i32.mul (local.get $rowBytes)
          (i32.add (i32.mul (local.get $i) (local.get $m)) (local.get $k)))))
        (local.set $to (i32.add (local.get $dst) (i32.mul (local.get $rowBytes)
          (i32.add (i32.mul (local.get $k) (local.get $a)) (local.get $i)))))
        (local.set $end (i32.add (local.get $from) (local.get $rowBytes)))
        (local.set $wideEnd (i32.add (local.get $from)
          (i32.and (local.get $rowBytes) (i32.const -16))))
        (block $wideDone (loop $wide
          (br_if $wideDone (i32.ge_u (local.get $from) (local.get $wideEnd)))
          (v128.store (local.get $to) (v128.load (local.get $from)))
          (local.set $from (i32.add (local.get $from) (i32.const 16)))
          (local.set $to (i32.add (local.get $to) (i32.const 16)))
          (br $wide)))
        (block $tailDone (loop $tail
          (br_if $tailDone (i32.ge_u (local.get $from) (local.get $end)))
          (f32.store (local.get $to) (f32.load (local.get $from)))
          (local.set $from (i32.add (local.get $from) (i32.const 4)))
          (local.set $to (i32.add (local.get $to) (i32.const 4)))
          (br $tail)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $kLoop)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $iLoop))))

  ;; The transposed patches of a conv's input (NHWC, dilation 1): dst[(p * kw + q) * c + ch, r] =
  ;; x[b, i * sh - top + p, j * sw - left + q, ch] for the output position r = (b * oh + i) * ow + j,
  ;; zero where that lies in the padding. [kh * kw * c, n * oh * ow], the first operand of the
  ;; filter gradient as one product (dW = patches^T-rows times dy).
  (func (export "im2colT")
    (param $x i32) (param $dst i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32)
    (param $oh i32) (param $ow i32) (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32)
    (param $top i32) (param $left i32)
    (local $rows i32) (local $p i32) (local $q i32) (local $ch i32) (local $b i32) (local $i i32)
    (local $j i32) (local $ih i32) (local $iw i32) (local $out i32) (local $image i32)
    (local $rowValid i32)
    (local.set $rows (i32.mul (i32.mul (local.get $n) (local.get $oh)) (local.get $ow)))
    (local.set $out (local.get $dst))
    (block $pDone (loop $pLoop
      (br_if $pDone (i32.ge_u (local.get $p) (local.get $kh)))
      (local.set $q (i32.const 0))
      (block $qDone (loop $qLoop
        (br_if $qDone (i32.ge_u (local.get $q) (local.get $kw)))
        (local.set $ch (i32.const 0))
        (block $chDone (loop $chLoop
          (br_if $chDone (i32.ge_u (local.get $ch) (local.get $c)))
          ;; One row of dst: every output position for tap (p, q), channel ch.
          (local.set $b (i32.const 0))
          (block $bDone (loop $bLoop
            (br_if $bDone (i32.ge_u (local.get $b) (local.get $n)))
            (local.set $image (i32.mul (local.get $b) (i32.mul (local.get $h) (local.get $w))))
            (local.set $i (i32.const 0))
            (block $iDone (loop $iLoop
              (br_if $iDone (i32.ge_u (local.get $i) (local.get $oh)))
              (local.set $ih (i32.add (i32.sub (i32.mul (local.get $i) (local.get $sh))
                (local.get $top)) (local.get $p)))
              (local.set $rowValid (i32.and (i32.ge_s (local.get $ih) (i32.const 0))
                (i32.lt_s (local.get $ih) (local.get $h))))
              (local.set $j (i32.const 0))
              (block $jDone (loop $jLoop
                (br_if $jDone (i32.ge_u (local.get $j) (local.get $ow)))
                (local.set $iw (i32.add (i32.sub (i32.mul (local.get $j) (local.get $sw))
                  (local.get $left)) (local.get $q)))
                (f32.store (local.get $out)
                  (if (result f32)
                    (i32.and (local.get $rowValid)
                      (i32.and (i32.ge_s (local.get $iw) (i32.const 0))
                        (i32.lt_s (local.get $iw) (local.get $w))))
                    (then (f32.load (i32.add (local.get $x) (i32.shl
                      (i32.add (i32.mul (i32.add (local.get $image)
                        (i32.add (i32.mul (local.get $ih) (local.get $w)) (local.get $iw)))
                        (local.get $c)) (local.get $ch))
                      (i32.const 2)))))
                    (else (f32.const 0))))
                (local.set $out (i32.add (local.get $out) (i32.const 4)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $jLoop)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $iLoop)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $bLoop)))
          (local.set $ch (i32.add (local.get $ch) (i32.const 1)))
          (br $chLoop)))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $qLoop)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $pLoop))))

  ;; A conv kernel [taps, ci, co] as [taps, co, ci] (channels swapped), the taps in reverse order
  ;; when flip is 1: dst[t, o, i] = src[flip ? taps - 1 - t : t, i, o]. Blocked 16 x 16 so reads and
  ;; writes both stay in cache lines (scalar: a transpose has no 4-wide form without shuffles).
  (func (export "swapChannels")
    (param $src i32) (param $dst i32) (param $taps i32) (param $ci i32) (param $co i32)
    (param $flip i32)
    (local $t i32) (local $from i32) (local $i0 i32) (local $o0 i32) (local $i i32) (local $o i32)
    (local $i1 i32) (local $o1 i32) (local $srcTap i32) (local $dstTap i32) (local $block i32)
    (local.set $block (i32.mul (local.get $ci) (local.get $co)))
    (block $tapsDone
      (loop $tap
        (br_if $tapsDone (i32.ge_u (local.get $t) (local.get $taps)))
        (local.set $from (select
          (i32.sub (i32.sub (local.get $taps) (i32.const 1)) (local.get $t))
          (local.get $t)
          (local.get $flip)))
        (local.set $srcTap (i32.add (local.get $src)
          (i32.shl (i32.mul (local.get $from) (local.get $block)) (i32.const 2))))
        (local.set $dstTap (i32.add (local.get $dst)
          (i32.shl (i32.mul (local.get $t) (local.get $block)) (i32.const 2))))
        (local.set $i0 (i32.const 0))
        (block $iDone
          (loop $iBlock
            (br_if $iDone (i32.ge_u (local.get $i0) (local.get $ci)))
            (local.set $i1 (select (local.get $ci) (i32.add (local.get $i0) (i32.const 16))
              (i32.lt_u (local.get $ci) (i32.add (local.get $i0) (i32.const 16)))))
            (local.set $o0 (i32.const 0))
            (block $oDone
              (loop $oBlock
                (br_if $oDone (i32.ge_u (local.get $o0) (local.get $co)))
                (local.set $o1 (select (local.get $co) (i32.add (local.get $o0) (i32.const 16))
                  (i32.lt_u (local.get $co) (i32.add (local.get $o0) (i32.const 16)))))
                (local.set $i (local.get $i0))
                (block $rowsDone
                  (loop $rowLoop
                    (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $i1)))
                    (local.set $o (local.get $o0))
                    (block $colsDone
                      (loop $colLoop
                        (br_if $colsDone (i32.ge_u (local.get $o) (local.get $o1)))
                        (f32.store
                          (i32.add (local.get $dstTap) (i32.shl
                            (i32.add (i32.mul (local.get $o) (local.get $ci)) (local.get $i))
                            (i32.const 2)))
                          (f32.load
                            (i32.add (local.get $srcTap) (i32.shl
                              (i32.add (i32.mul (local.get $i) (local.get $co)) (local.get $o))
                              (i32.const 2)))))
                        (local.set $o (i32.add (local.get $o) (i32.const 1)))
                        (br $colLoop)))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br $rowLoop)))
                (local.set $o0 (local.get $o1))
                (br $oBlock)))
            (local.set $i0 (local.get $i1))
            (br $iBlock)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $tap))))

  ;; Max pooling's gradient (NHWC, dilation 1): each output's dy added to dx at the first largest
  ;; input of its window (strictly greater, from -infinity: tfjs's choice; a window of NaNs or
  ;; -infinities passes nothing). dx must be zeroed. best (f32) and at (i32) are scratch of c each.
  (func (export "maxPoolGrad")
    (param $x i32) (param $dy i32) (param $dx i32) (param $n i32) (param $h i32) (param $w i32)
    (param $c i32) (param $oh i32) (param $ow i32) (param $kh i32) (param $kw i32) (param $sh i32)
    (param $sw i32) (param $top i32) (param $left i32) (param $best i32) (param $at i32)
    (local $b i32) (local $i i32) (local $j i32) (local $p i32) (local $q i32) (local $ih i32)
    (local $iw i32) (local $ch i32) (local $image i32) (local $pixel i32) (local $v f32)
    (local $dyRow i32) (local $k i32) (local $imageBytes i32)
    (local.set $imageBytes (i32.shl (i32.mul (i32.mul (local.get $h) (local.get $w)) (local.get $c))
      (i32.const 2)))
    (local.set $dyRow (local.get $dy))
    (block $bDone (loop $bLoop
      (br_if $bDone (i32.ge_u (local.get $b) (local.get $n)))
      (local.set $image (i32.mul (local.get $b) (local.get $imageBytes)))
      (local.set $i (i32.const 0))
      (block $iDone (loop $iLoop
        (br_if $iDone (i32.ge_u (local.get $i) (local.get $oh)))
        (local.set $j (i32.const 0))
        (block $jDone (loop $jLoop
          (br_if $jDone (i32.ge_u (local.get $j) (local.get $ow)))
          ;; best = -infinity, at = -1 for every channel.
          (local.set $ch (i32.const 0))
          (block $initDone (loop $init
            (br_if $initDone (i32.ge_u (local.get $ch) (local.get $c)))
            (local.set $k (i32.shl (local.get $ch) (i32.const 2)))
            (f32.store (i32.add (local.get $best) (local.get $k)) (f32.const -inf))
            (i32.store (i32.add (local.get $at) (local.get $k)) (i32.const -1))
            (local.set $ch (i32.add (local.get $ch) (i32.const 1)))
            (br $init)))
          (local.set $p (i32.const 0))
          (block $pDone (loop $pLoop
            (br_if $pDone (i32.ge_u (local.get $p) (local.get $kh)))
            (local.set $ih (i32.add (i32.sub (i32.mul (local.get $i) (local.get $sh)) (local.get $top))
              (local.get $p)))
            (if (i32.and (i32.ge_s (local.get $ih) (i32.const 0)) (i32.lt_s (local.get $ih) (local.get $h)))
              (then
                (local.set $q (i32.const 0))
                (block $qDone (loop $qLoop
                  (br_if $qDone (i32.ge_u (local.get $q) (local.get $kw)))
                  (local.set $iw (i32.add (i32.sub (i32.mul (local.get $j) (local.get $sw))
                    (local.get $left)) (local.get $q)))
                  (if (i32.and (i32.ge_s (local.get $iw) (i32.const 0)) (i32.lt_s (local.get $iw) (local.get $w)))
                    (then
                      ;; Byte offset of this pixel's first channel within the image.
                      (local.set $pixel (i32.shl (i32.mul (i32.add (i32.mul (local.get $ih) (local.get $w))
                        (local.get $iw)) (local.get $c)) (i32.const 2)))
                      (local.set $ch (i32.const 0))
                      (block $chDone (loop $chLoop
                        (br_if $chDone (i32.ge_u (local.get $ch) (local.get $c)))
                        (local.set $k (i32.shl (local.get $ch) (i32.const 2)))
                        (local.set $v (f32.load (i32.add (i32.add (local.get $x) (local.get $image))
                          (i32.add (local.get $pixel) (local.get $k)))))
                        (if (f32.gt (local.get $v) (f32.load (i32.add (local.get $best) (local.get $k))))
                          (then
                            (f32.store (i32.add (local.get $best) (local.get $k)) (local.get $v))
                            (i32.store (i32.add (local.get $at) (local.get $k))
                              (i32.add (local.get $pixel) (local.get $k)))))
                        (local.set $ch (i32.add (local.get $ch) (i32.const 1)))
                        (br $chLoop)))))
                  (local.set $q (i32.add (local.get $q) (i32.const 1)))
                  (br $qLoop)))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $pLoop)))
          ;; dx[at] += dy for every channel that found a maximum.
          (local.set $ch (i32.const 0))
          (block $addDone (loop $addLoop
            (br_if $addDone (i32.ge_u (local.get $ch) (local.get $c)))
            (local.set $k (i32.shl (local.get $ch) (i32.const 2)))
            (local.set $pixel (i32.load (i32.add (local.get $at) (local.get $k))))
            (if (i32.ge_s (local.get $pixel) (i32.const 0))
              (then
                (local.set $pixel (i32.add (i32.add (local.get $dx) (local.get $image)) (local.get $pixel)))
                (f32.store (local.get $pixel) (f32.add (f32.load (local.get $pixel))
                  (f32.load (i32.add (local.get $dyRow) (local.get $k)))))))
            (local.set $ch (i32.add (local.get $ch) (i32.const 1)))
            (br $addLoop)))
          (local.set $dyRow (i32.add (local.get $dyRow) (i32.shl (local.get $c) (i32.const 2))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $jLoop)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $iLoop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bLoop))))

  ;; Adam, in tfjs's order of float32 operations, over n values (in place when the outputs are
  ;; the inputs): m' = m * b1 + g * (1 - b1); v' = v * b2 + g^2 * (1 - b2);
  ;; p' = (m' / c1) / (sqrt(v' / c2) + eps) * -lr + p, with c1 = 1 - b1^t and c2 = 1 - b2^t.
  ;; 1 - b1 and 1 - b2 are passed in as tfjs rounds them (in double, then to float32).
  (func (export "adam")
    (param $p i32) (param $m i32) (param $v i32) (param $g i32) (param $pOut i32)
    (param $mOut i32) (param $vOut i32) (param $n i32) (param $b1 f32) (param $b2 f32)
    (param $oneMinusB1 f32) (param $oneMinusB2 f32) (param $c1 f32) (param $c2 f32)
    (param $lr f32) (param $eps f32)
    (local $i i32) (local $wide i32) (local $o i32) (local $gv v128) (local $mv v128)
    (local $vv v128) (local $gs f32) (local $ms f32) (local $vs f32)
    (local.set $wide (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $n (i32.shl (local.get $n) (i32.const 2)))
    (block $wideDone
      (loop $four
        (br_if $wideDone (i32.ge_u (local.get $o) (local.get $wide)))
        (local.set $gv (v128.load (i32.add (local.get $g) (local.get $o))))
        (local.set $mv
          (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $o)))
                       (f32x4.splat (local.get $b1)))
                     (f32x4.mul (local.get $gv)
                       (f32x4.splat (local.get $oneMinusB1)))))
        (local.set $vv
          (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $o)))
                       (f32x4.splat (local.get $b2)))
                     (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv))
                       (f32x4.splat (local.get $oneMinusB2)))))
        (v128.store (i32.add (local.get $mOut) (local.get $o)) (local.get $mv))
        (v128.store (i32.add (local.get $vOut) (local.get $o)) (local.get $vv))
        (v128.store (i32.add (local.get $pOut) (local.get $o))
          (f32x4.add
            (f32x4.mul
              (f32x4.div (f32x4.div (local.get $mv) (f32x4.splat (local.get $c1)))
                (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vv) (f32x4.splat (local.get $c2))))
                  (f32x4.splat (local.get $eps))))
              (f32x4.splat (f32.neg (local.get $lr))))
            (v128.load (i32.add (local.get $p) (local.get $o)))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $four)))
    (block $tailDone
      (loop $one
        (br_if $tailDone (i32.ge_u (local.get $o) (local.get $n)))
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $o))))
        (local.set $ms
          (f32.add (f32.mul (f32.load (i32.add (local.get $m) (local.get $o))) (local.get $b1))
                   (f32.mul (local.get $gs) (local.get $oneMinusB1))))
        (local.set $vs
          (f32.add (f32.mul (f32.load (i32.add (local.get $v) (local.get $o))) (local.get $b2))
                   (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $oneMinusB2))))
        (f32.store (i32.add (local.get $mOut) (local.get $o)) (local.get $ms))
        (f32.store (i32.add (local.get $vOut) (local.get $o)) (local.get $vs))
        (f32.store (i32.add (local.get $pOut) (local.get $o))
          (f32.add
            (f32.mul
              (f32.div (f32.div (local.get $ms) (local.get $c1))
                (f32.add (f32.sqrt (f32.div (local.get $vs) (local.get $c2))) (local.get $eps)))
              (f32.neg (local.get $lr)))
            (f32.load (i32.add (local.get $p) (local.get $o)))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $one))))
)
