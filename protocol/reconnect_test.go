//go:build puente_testparams

package protocol

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
)

// TestRestartedPartnerReachedAtOnce stops a partner's node so that its port refuses
// connections, searches it (the search fails: the querier's connection is then waiting out
// gRPC's reconnection backoff, a second or more), brings the partner back up, and searches it
// at once: the search must reach the restarted partner, not fail with the connection's last
// error until the backoff ends.
func TestRestartedPartnerReachedAtOnce(t *testing.T) {
	a, b, gal := enrolledPair(t)
	ctx := ctxTimeout(t, 5*time.Minute)
	probe := Probe{Raw: near(1, gal[4], 0.1)}
	if res, err := a.Search(ctx, "beta", probe, ""); err != nil || !res.Hit {
		t.Fatalf("search before the restart: %+v %v, want a hit", res, err)
	}
	b.down(t)
	if _, err := a.Search(ctx, "beta", probe, ""); codeOf(err) != codes.Unavailable {
		t.Fatalf("search while the partner is down: %v, want Unavailable", err)
	}
	p := a.partners["beta"]
	p.mu.Lock()
	st := p.conn.GetState()
	p.mu.Unlock()
	if st != connectivity.TransientFailure {
		t.Fatalf("the connection to the partner that is down is %v, want %v", st, connectivity.TransientFailure)
	}
	b.start(t)
	res, err := a.Search(ctx, "beta", probe, "")
	if err != nil || !res.Hit {
		t.Fatalf("search right after the partner restarted: %+v %v, want a hit", res, err)
	}
}
