package perf

import (
	"errors"
	"fmt"
	"io"

	"github.com/puente-id/puente/he"
)

// Keys are both parties' results of one ceremony, held in one process for
// measurement: the querier's and the responder's secret shares and the
// responder's evaluation keys.
type Keys struct {
	Querier, Responder *he.SecretShare
	Eval               *he.EvaluationKeys
}

// Destroy zeroes both secret shares.
func (k *Keys) Destroy() {
	k.Querier.Destroy()
	k.Responder.Destroy()
}

// CeremonyStats is what one ceremony cost.
type CeremonyStats struct {
	MaxDims int `json:"max_dims"`
	Steps   int `json:"steps"`
	// Wall and CPU are the time of both parties' work together (one
	// process, shares exchanged in memory: no network).
	Wall Seconds `json:"wall_s"`
	CPU  Seconds `json:"cpu_s"`
	// SentQuerier and SentResponder are the bytes of the shares each party
	// sends (the encoded protocol messages, without transport framing).
	SentQuerier   int64 `json:"sent_querier_bytes"`
	SentResponder int64 `json:"sent_responder_bytes"`
	// EvalKeysBytes is the encoded size of the evaluation keys the
	// responder stores; ShareBytes that of one secret share.
	EvalKeysBytes int `json:"eval_keys_bytes"`
	ShareBytes    int `json:"share_bytes"`
	// PeakRSS is the process's resident high-water mark after the ceremony.
	PeakRSS   int64     `json:"peak_rss_bytes"`
	PeakScope PeakScope `json:"peak_rss_scope"`
}

// RunCeremony runs both sides of the key ceremony for one direction in
// this process: the querier's secret share from rndQ, the responder's from
// rndR, the common reference string seeded by crs. maxDims must be a power
// of two the parameter set supports.
func RunCeremony(ps *he.ParamSet, maxDims int, crs he.KeySetID, rndQ, rndR io.Reader) (*Keys, CeremonyStats, error) {
	st := CeremonyStats{MaxDims: maxDims}
	st.PeakScope = ResetPeakRSS()
	clock := Start()
	q, err := he.NewCeremony(ps, he.RoleQuerier, maxDims, crs, rndQ)
	if err != nil {
		return nil, st, fmt.Errorf("perf: ceremony: %w", err)
	}
	r, err := he.NewCeremony(ps, he.RoleResponder, maxDims, crs, rndR)
	if err != nil {
		return nil, st, fmt.Errorf("perf: ceremony: %w", err)
	}
	for _, round := range []he.Round{he.Round1, he.Round2} {
		if err := commitRound(q, r, round); err != nil {
			return nil, st, fmt.Errorf("perf: ceremony: %w", err)
		}
		for _, s := range q.RoundSteps(round) {
			n, err := swap(q, r, s)
			if err != nil {
				return nil, st, fmt.Errorf("perf: ceremony: %s: %w", s, err)
			}
			st.SentQuerier += int64(n[0])
			st.SentResponder += int64(n[1])
			st.Steps++
		}
	}
	if !q.Done() || !r.Done() {
		return nil, st, errors.New("perf: ceremony not done after every step")
	}
	k := &Keys{}
	if k.Querier, err = q.SecretShare(); err == nil {
		if k.Responder, err = r.SecretShare(); err == nil {
			k.Eval, err = r.EvaluationKeys()
		}
	}
	if err != nil {
		return nil, st, fmt.Errorf("perf: ceremony: %w", err)
	}
	wall, cpu := clock.Elapsed()
	st.Wall, st.CPU = Seconds(wall), Seconds(cpu)
	st.PeakRSS, _ = PeakRSS()
	st.EvalKeysBytes = k.Eval.Size()
	share, err := k.Querier.MarshalBinary()
	if err != nil {
		return nil, st, fmt.Errorf("perf: ceremony: %w", err)
	}
	st.ShareBytes = len(share)
	clear(share)
	return k, st, nil
}

// commitRound makes both parties commit to their shares of a round and
// hands each the other's commitments, as the protocol's CommitShares does.
func commitRound(q, r *he.Ceremony, round he.Round) error {
	id := q.KeySetID()
	bind := append(id[:], byte(round))
	cq, err := q.Commit(round, bind)
	if err != nil {
		return err
	}
	cr, err := r.Commit(round, bind)
	if err != nil {
		return err
	}
	if err := q.PeerCommitments(round, cr); err != nil {
		return err
	}
	return r.PeerCommitments(round, cq)
}

// swap reveals both parties' committed shares of step s and hands each to
// the other; it returns the bytes each sent.
func swap(q, r *he.Ceremony, s he.Step) ([2]int, error) {
	var n [2]int
	sq, err := q.Reveal(s)
	if err != nil {
		return n, err
	}
	if err := r.Absorb(s, sq); err != nil {
		return n, err
	}
	sr, err := r.Reveal(s)
	if err != nil {
		return n, err
	}
	if err := q.Absorb(s, sr); err != nil {
		return n, err
	}
	return [2]int{len(sq), len(sr)}, nil
}
