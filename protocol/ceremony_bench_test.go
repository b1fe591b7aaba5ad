//go:build puente_testparams

package protocol

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/puente-id/puente/he/hetest"
)

// cpuTime is the CPU time (user and system) this process has used: both in-process nodes.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCeremony runs key ceremonies between two in-process nodes over loopback TLS (each one
// a new epoch) and reports, beside the wall time, the CPU time of both nodes and the HE share
// bytes each way; CPU time moves less than wall time on a shared machine. The parameter set is
// $PUENTE_BENCH_PARAMS (default the INSECURE N = 2^12 set). Run:
//
//	go test -tags puente_testparams ./protocol -run '^$' -bench Ceremony -benchtime 2x
//	PUENTE_BENCH_PARAMS=puente-ckks-n15-v1 go test -tags puente_testparams ./protocol -run '^$' -bench Ceremony -benchtime 2x -timeout 1h
func BenchmarkCeremony(b *testing.B) {
	params := os.Getenv("PUENTE_BENCH_PARAMS")
	if params == "" {
		params = hetest.InsecureN12().Name()
	}
	a, _ := newPair(b, pairOptions{params: params})
	ctx := context.Background()
	b.ResetTimer()
	cpu := cpuTime()
	var sent int64
	for i := 0; i < b.N; i++ {
		rep, err := a.Ceremony(ctx, "beta", 0)
		if err != nil {
			b.Fatal(err)
		}
		sent = rep.BytesSent
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N)/1e9, "cpu-s/op")
	b.ReportMetric(float64(sent), "share-bytes-each-way")
}
