package protocol

import (
	"crypto/rand"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/puente-id/puente/keys/policy"
)

func TestStateReplayAndQuotaSurviveRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := openState(path, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	q := func(partner string) []limit {
		return []limit{{bucket: quotaBucket(partner), quota: policy.Quota{Queries: 2, Window: time.Hour}}}
	}
	n1, n2, n3 := []byte("nonce-0000000001"), []byte("nonce-0000000002"), []byte("nonce-0000000003")
	if _, err := s.admit("beta", n1, now.Add(5*time.Minute), q("beta"), now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.admit("beta", n1, now.Add(5*time.Minute), q("beta"), now); !errors.Is(err, errNonceSeen) {
		t.Fatalf("repeated nonce: %v", err)
	}
	if _, err := s.admit("gamma", n1, now.Add(5*time.Minute), q("gamma"), now); err != nil {
		t.Fatalf("another partner's equal nonce: %v", err)
	}
	tk, err := s.admit("beta", n2, now.Add(5*time.Minute), q("beta"), now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.admit("beta", n3, now.Add(5*time.Minute), q("beta"), now); !errors.Is(err, errQuotaSpent) {
		t.Fatalf("third query of a quota of 2: %v", err)
	}
	// The refusal recorded nothing: n3 is still fresh.
	if seen, _ := s.seen("beta", n3); seen {
		t.Fatal("a refused request's nonce was recorded")
	}
	if err := s.release(tk); err != nil {
		t.Fatal(err)
	}
	if used, _ := s.used("beta", time.Hour, now); used != 1 {
		t.Fatalf("used %d after a release, want 1", used)
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	// After a restart the accepted nonces and answered queries are still there.
	s, err = openState(path, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	for _, n := range [][]byte{n1, n2} {
		if seen, _ := s.seen("beta", n); !seen {
			t.Errorf("nonce %s forgotten across a restart", n)
		}
		if _, err := s.admit("beta", n, now.Add(5*time.Minute), q("beta"), now); !errors.Is(err, errNonceSeen) {
			t.Errorf("nonce %s accepted again after a restart: %v", n, err)
		}
	}
	if used, _ := s.used("beta", time.Hour, now); used != 1 {
		t.Errorf("used %d after a restart, want 1", used)
	}
	// The window slides: an hour later the old queries no longer count.
	later := now.Add(61 * time.Minute)
	if _, err := s.admit("beta", n3, later.Add(5*time.Minute), q("beta"), later); err != nil {
		t.Errorf("after the window: %v", err)
	}
	if k, err := s.pruneNonces(later); err != nil || k != 3 {
		t.Errorf("pruned %d nonces (%v), want the 3 expired ones", k, err)
	}
}
