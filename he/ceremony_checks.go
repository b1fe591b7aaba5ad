package he

import (
	"errors"
	"fmt"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/multiparty"
	"github.com/tuneinsight/lattigo/v6/ring/ringqp"
)

var (
	// ErrCommitment reports a ceremony share that does not open the
	// commitment its sender made to it: the sender changed its share after
	// committing. The ceremony is over.
	ErrCommitment = errors.New("he: share does not open its commitment")

	// ErrRejectedShare reports a ceremony share that decodes but that no
	// honest party sends: all zero, constant, concentrated near zero, a
	// repeat of a share seen earlier, or one that makes the aggregate
	// degenerate. The ceremony is over.
	ErrRejectedShare = errors.New("he: ceremony share refused")
)

func rejected(s Step, format string, args ...any) error {
	return &FieldError{Object: "ceremony message", Field: s.String(), Reason: fmt.Sprintf(format, args...), Kind: ErrRejectedShare}
}

// peer returns the other role of a key set.
func (r Role) peer() Role {
	if r == RoleQuerier {
		return RoleResponder
	}
	return RoleQuerier
}

// checkShare refuses a peer's share that no honest party sends. Every
// honest share of every step is an RLWE sample whose mask is a uniform
// polynomial of the common reference string (CKG: -a·s + e; RKG round 1:
// -u·a + s·w + e and s·a + e; RKG round 2: h0·s + (u - s)·h1 + e over the
// uniform round-1 aggregate; GKG: -a·s + σ(s)·w + e), so each of its residue
// rows is uniform modulo its prime, in the NTT domain as stored and in the
// coefficient domain alike. A row that is all zero, constant, or has more
// than N/64 values within q/2^16 of zero (an honest row has about N/2^15
// of them) is refused: such shares are how a peer steers the aggregate
// (the rushing attack answered round 1 with (C - h0, -h1)). A share equal
// to one seen before is refused by Absorb through the share log.
func (c *Ceremony) checkShare(s Step, share any) error {
	for i, p := range sharePolys(share) {
		if why := c.degenerate(p); why != "" {
			return rejected(s, "polynomial %d of the share is %s", i, why)
		}
	}
	return nil
}

// checkAggregate refuses an aggregate of our share and the peer's that is
// degenerate in the same sense: the peer's share cancels ours (its
// negation, or our share plus a constant).
func (c *Ceremony) checkAggregate(s Step, agg any) error {
	for i, p := range sharePolys(agg) {
		if why := c.degenerate(p); why != "" {
			return rejected(s, "polynomial %d of the aggregate with our share is %s: the peer's share cancels ours", i, why)
		}
	}
	return nil
}

// sharePolys lists the polynomials of a decoded share.
func sharePolys(share any) []ringqp.Poly {
	var g *rlwe.GadgetCiphertext
	switch sh := share.(type) {
	case *multiparty.PublicKeyGenShare:
		return []ringqp.Poly{sh.Value}
	case *multiparty.RelinearizationKeyGenShare:
		g = &sh.GadgetCiphertext
	case *multiparty.GaloisKeyGenShare:
		g = &sh.GadgetCiphertext
	default:
		return nil
	}
	var out []ringqp.Poly
	for i := range g.Value {
		for j := range g.Value[i] {
			out = append(out, g.Value[i][j]...)
		}
	}
	return out
}

// degenerate describes why a share polynomial (NTT domain, over Q up to its
// level and every P prime) cannot come from an honest party, or returns "".
// Every residue row is checked as stored (NTT domain); the coefficient
// domain is checked on the first Q and the first P residue, which is enough
// for the shapes it catches (a small or constant integer polynomial is
// small or constant modulo every prime) and costs one row's inverse NTT
// instead of all of them.
func (c *Ceremony) degenerate(p ringqp.Poly) string {
	lq, lp := p.LevelQ(), p.LevelP()
	qs, pp := c.ps.params.Q(), c.ps.params.P()
	for i := 0; i <= lq; i++ {
		if why := degenerateRow(p.Q.Coeffs[i], qs[i]); why != "" {
			return fmt.Sprintf("%s (residue %d)", why, i)
		}
	}
	for i := 0; i <= lp; i++ {
		if why := degenerateRow(p.P.Coeffs[i], pp[i]); why != "" {
			return fmt.Sprintf("%s (P residue %d)", why, i)
		}
	}
	rq := c.ps.params.RingQ().AtLevel(0)
	row := rq.NewPoly()
	copy(row.Coeffs[0], p.Q.Coeffs[0])
	rq.INTT(row, row)
	if why := degenerateRow(row.Coeffs[0], qs[0]); why != "" {
		return why + " in the coefficient domain (residue 0)"
	}
	if lp >= 0 {
		rp := c.ps.params.RingP().AtLevel(0)
		prow := rp.NewPoly()
		copy(prow.Coeffs[0], p.P.Coeffs[0])
		rp.INTT(prow, prow)
		if why := degenerateRow(prow.Coeffs[0], pp[0]); why != "" {
			return why + " in the coefficient domain (P residue 0)"
		}
	}
	return ""
}

// degenerateRow checks one residue row modulo q.
func degenerateRow(row []uint64, q uint64) string {
	first := row[0] % q
	equal, small := true, 0
	lim := q >> 16
	for _, v := range row {
		v %= q // Lattigo leaves some values lazily reduced
		if v != first {
			equal = false
		}
		if v < lim || q-v < lim {
			small++
		}
	}
	switch {
	case equal && first == 0:
		return "all zero"
	case equal:
		return "constant"
	case small > len(row)/64:
		return fmt.Sprintf("concentrated near zero (%d of %d values within q/2^16)", small, len(row))
	}
	return ""
}
