package he_test

import (
	"context"
	"math/rand/v2"
	"os"
	"runtime/pprof"
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
	n := 100000
	gal := hetest.UnitVectors(rng, n, 128)
	probe := append([]float64(nil), gal[4321]...)
	qr, _ := he.NewQuerier(k.Querier)
	q, _ := qr.EncryptProbe(probe, hetest.Reader(3))
	r, _ := he.NewResponder(k.Eval, k.Responder)
	g, err := he.Pack(ps, 128, gal, he.PackOptions{MemoryBudget: -1})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Create("/tmp/respond.prof")
	pprof.StartCPUProfile(f)
	for _, mode := range []he.Mode{he.ModeAny} {
		st, c0 := time.Now(), cpuTime()
		resp, _, err := r.Respond(context.Background(), q, g, he.Options{Threshold: he.Threshold{Tau: 0.5}, Mode: mode}, hetest.Reader(4))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("n1 %d mode %v: respond wall %v cpu %v", g.BabySteps(), mode, time.Since(st), cpuTime()-c0)
		dec, err := qr.Decide(q, resp)
		t.Logf("decision %+v %v", dec, err)
	}
	pprof.StopCPUProfile()
}
