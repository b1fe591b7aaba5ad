package he

import (
	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/ring/ringqp"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
)

// rescale sets out to ct divided by its last prime, rounded, as
// ckks.Evaluator.Rescale does (ring.Ring.DivRoundByLastModulusNTT: the same
// integers, coefficient for coefficient), with nttTable's forward NTT for
// the other primes in place of Lattigo's. The last row's inverse NTT stays
// Lattigo's: the rounding reads the representative it leaves. A ring
// nttTable does not serve, or a set that consumes more than one prime per
// rescale, takes Lattigo's Rescale.
func rescale(eval *ckks.Evaluator, ct, out *rlwe.Ciphertext) error {
	params := eval.GetParameters()
	l := ct.Level()
	if params.LevelsConsumedPerRescaling() != 1 || l < 1 || ct.MetaData == nil || out.MetaData == nil || !ct.IsNTT {
		return eval.Rescale(ct, out)
	}
	ringQ := params.RingQ().AtLevel(l)
	tables := make([]*nttTable, l)
	for i, s := range ringQ.SubRings[:l] {
		if tables[i] = nttTableOf(s); tables[i] == nil {
			return eval.Rescale(ct, out)
		}
	}
	if ct != out {
		out.Resize(ct.Degree(), l-1)
	}
	*out.MetaData = *ct.MetaData
	last := ringQ.SubRings[l]
	out.Scale = ct.Scale.Div(rlwe.NewScale(last.Modulus))
	pool := scratchPool(params.RingQ(), params.RingP())
	buf := pool.Get().(*ringqp.Poly)
	defer pool.Put(buf)
	lastRow := buf.P.Coeffs[0]
	pHalf := (last.Modulus - 1) >> 1
	for j, p := range ct.Value {
		// The last row out of NTT form, centred: x + (q_l - 1)/2, as Lattigo
		// leaves it (below 1.5·q_l), then for each other prime q_i the
		// NTT of that less (q_l - 1)/2 mod q_i, and (p_i - it)·q_l^-1.
		last.INTTLazy(p.Coeffs[l], lastRow)
		last.AddScalar(lastRow, pHalf, lastRow)
		for i, s := range ringQ.SubRings[:l] {
			q, brc := s.Modulus, s.BRedConstant
			c := q - ring.BRedAdd(pHalf, q, brc)
			row := buf.Q.Coeffs[i]
			if last.Modulus < 2*q {
				// y + c below 1.5·q_l + q < 4q: below 2q after one
				// conditional subtraction, as forward takes it.
				twoQ := 2 * q
				for k, y := range lastRow {
					row[k] = below2q(y+c, twoQ)
				}
			} else {
				for k, y := range lastRow {
					row[k] = ring.BRedAdd(y+c, q, brc)
				}
			}
			tables[i].forward(row)
			// (2q - p_i + row)·(-q_l^-1), reduced: row's values below 4q keep
			// the sum below 6q, within the Montgomery product's bound.
			subThenMulScalar(s, row, p.Coeffs[i], ringQ.RescaleConstants[l-1][i], out.Value[j].Coeffs[i])
		}
	}
	if ct == out {
		out.Resize(ct.Degree(), l-1)
	}
	return nil
}
