package he_test

import (
	"context"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestN15Timing(t *testing.T) {
	ps, _ := he.Lookup(he.N15V1)
	k := hetest.Ceremony(t, ps, 128, hetest.Reader(1), hetest.Reader(2))
	rng := rand.New(rand.NewPCG(1, 2))
	n := 4 * ps.Slots()
	gal := hetest.UnitVectors(rng, n, 128)
	probe := append([]float64(nil), gal[4321]...)
	qr, _ := he.NewQuerier(k.Querier)
	q, _ := qr.EncryptProbe(probe, hetest.Reader(3))
	r, _ := he.NewResponder(k.Eval, k.Responder)
	for _, n1 := range []int{32, 16} {
		g, err := he.Pack(ps, 128, gal, he.PackOptions{MemoryBudget: -1, BabySteps: n1})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []int{1, 2} {
			st, c0 := time.Now(), cpuTime()
			_, _, err := r.Respond(context.Background(), q, g, he.Options{Threshold: he.Threshold{Tau: 0.5}, Workers: w}, hetest.Reader(4))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("n1 %d workers %d: respond wall %v cpu %v", n1, w, time.Since(st), cpuTime()-c0)
		}
	}
}
