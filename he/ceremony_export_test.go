package he

import (
	"math"
	"math/big"
)

// CheckAggregateWithForTest runs the aggregate check of step s on this
// party's committed share and the peer's message, without changing the
// ceremony's state: the defence that a share cancelling ours would meet
// if it ever opened its commitment.
func (c *Ceremony) CheckAggregateWithForTest(s Step, peer []byte) error {
	st := c.steps[s]
	p, err := c.decodeShare(s, peer)
	if err != nil {
		return err
	}
	own, err := c.decodeShareFrom(s, st.own, c.role)
	if err != nil {
		return err
	}
	for i, a := range sharePolys(own) {
		b := sharePolys(p)[i]
		c.ps.params.RingQP().AtLevel(a.LevelQ(), a.LevelP()).Add(a, b, a)
	}
	return c.checkAggregate(s, own)
}

// CheckNoise is the measured noise of one key check against its bound.
type CheckNoise struct {
	Name           string
	MeanAbs, Sigma float64
	MaxAbs         float64
}

// KeyCheckNoiseForTest computes, with both parties' secrets, the noise δ
// of every output of the key check (what the two rounded halves differ by)
// and returns its mean and largest absolute value beside the bound σ the
// rounding width is made from.
func KeyCheckNoiseForTest(q, r *Ceremony, seed [32]byte) ([]CheckNoise, error) {
	outs, err := q.checkOutputs(seed)
	if err != nil {
		return nil, err
	}
	var res []CheckNoise
	for _, o := range outs {
		l := o.ct.Level()
		rq := q.ps.params.RingQ().AtLevel(l)
		s := rq.NewPoly()
		rq.Add(truncate(q.sk.Value.Q, l), truncate(r.sk.Value.Q, l), s)
		v := rq.NewPoly()
		rq.MulCoeffsMontgomery(o.ct.Value[1], s, v)
		rq.Add(v, o.ct.Value[0], v)
		rq.Sub(v, o.want, v)
		rq.INTT(v, v)
		coeffs := make([]*big.Int, q.ps.params.N())
		for i := range coeffs {
			coeffs[i] = new(big.Int)
		}
		rq.PolyToBigintCentered(v, 1, coeffs)
		var sum, mx float64
		for _, x := range coeffs {
			f, _ := new(big.Float).SetInt(x).Float64()
			sum += math.Abs(f)
			mx = max(mx, math.Abs(f))
		}
		res = append(res, CheckNoise{Name: o.name, MeanAbs: sum / float64(len(coeffs)), Sigma: o.sigma, MaxAbs: mx})
	}
	return res, nil
}
