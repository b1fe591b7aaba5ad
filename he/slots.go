package he

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
)

// slots prepares a ModeSlots result: the per-block decisions in a random
// block order, each block rotated left by a random offset (as a sum of
// power-of-two rotations), dropped to the result level.
func (r *Responder) slots(eval *ckks.Evaluator, steps []*rlwe.Ciphertext, size int, rand io.Reader) ([]*rlwe.Ciphertext, *Trace, error) {
	ps := r.ps
	S := ps.Slots()
	tr := &Trace{ps: ps, slots: S, size: size, perm: make([]int, len(steps)), rot: make([]int, len(steps))}
	for i := range tr.perm {
		tr.perm[i] = i
	}
	// Fisher–Yates with unbiased draws.
	for i := len(tr.perm) - 1; i > 0; i-- {
		j, err := uniformInt(rand, i+1)
		if err != nil {
			return nil, nil, err
		}
		tr.perm[i], tr.perm[j] = tr.perm[j], tr.perm[i]
	}
	out := make([]*rlwe.Ciphertext, len(steps))
	tmp := ckks.NewCiphertext(ps.params, 1, ps.stepOutLevel(ModeSlots))
	for p, b := range tr.perm {
		rot, err := uniformInt(rand, S)
		if err != nil {
			return nil, nil, err
		}
		tr.rot[p] = rot
		ct := steps[b]
		for k := 1; k < S; k <<= 1 {
			if rot&k == 0 {
				continue
			}
			if err := eval.Rotate(ct, k, tmp); err != nil {
				return nil, nil, fmt.Errorf("he: slot rotation: %w", err)
			}
			ct.Copy(tmp)
		}
		eval.DropLevel(ct, ct.Level()-resultLevel)
		out[p] = ct
	}
	return out, tr, nil
}

// uniformInt returns a uniform integer in [0, n) read from rand.
func uniformInt(rand io.Reader, n int) (int, error) {
	var b [8]byte
	limit := ^uint64(0) - ^uint64(0)%uint64(n)
	for {
		if _, err := io.ReadFull(rand, b[:]); err != nil {
			return 0, fmt.Errorf("he: reading randomness: %w", err)
		}
		if v := binary.BigEndian.Uint64(b[:]); v < limit {
			return int(v % uint64(n)), nil
		}
	}
}
