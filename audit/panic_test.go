package audit

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// panicSigner is a test key that panics while armed: a bug under the writer's goroutine.
type panicSigner struct {
	*testKey
	armed atomic.Bool
}

func (s *panicSigner) Sign(domain string, msg []byte) ([]byte, error) {
	if s.armed.Load() {
		panic("signer bug")
	}
	return s.testKey.Sign(domain, msg)
}

// panicVerifier panics: a bug in what a maintenance operation runs on the writer's goroutine.
type panicVerifier struct{}

func (panicVerifier) Verify(string, time.Time, string, []byte, []byte) error { panic("verifier bug") }

// TestWriterPanicFailsClosed: a panic on the writer's goroutine (here in the signer, while a
// batch is sealed, and in a prune's verifier) is logged with its stack; every append waiting on
// it, and every later one, fails with ErrStopped, as does Close; the log holds exactly the records
// acknowledged before and checks out, and the next Open goes on from them. Before, the panic ended
// the process.
func TestWriterPanicFailsClosed(t *testing.T) {
	for _, where := range []string{"seal", "prune"} {
		t.Run(where, func(t *testing.T) {
			k := &panicSigner{testKey: newTestKey(1)}
			var logged bytes.Buffer
			path := t.TempDir() + "/audit.log"
			w, err := Open(path, Options{Node: "us-cbp", Signer: k, Verifier: ringOf(k.testKey), Now: stepClock(),
				Logger: slog.New(slog.NewJSONHandler(&logged, nil))})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				mustAppend(t, w, KindQuery, queryEvent(i, RoleResponder))
			}
			if where == "seal" {
				k.armed.Store(true)
				var wg sync.WaitGroup
				errs := make([]error, 4)
				for i := range errs {
					wg.Go(func() { _, errs[i] = w.Append(ctx, KindQuery, queryEvent(10+i, RoleResponder)) })
				}
				wg.Wait()
				for i, err := range errs {
					if !errors.Is(err, ErrStopped) {
						t.Errorf("append %d at the panic: %v, want ErrStopped", i, err)
					}
				}
				k.armed.Store(false)
			} else if _, err := w.Prune(ctx, t0.Add(time.Hour), panicVerifier{}); !errors.Is(err, ErrStopped) {
				t.Errorf("prune at the panic: %v, want ErrStopped", err)
			}
			if _, err := w.Append(ctx, KindQuery, queryEvent(20, RoleResponder)); !errors.Is(err, ErrStopped) {
				t.Errorf("append after the panic: %v, want ErrStopped", err)
			}
			if _, err := w.AppendLog(ctx, "opened", 0); !errors.Is(err, ErrStopped) {
				t.Errorf("log record after the panic: %v, want ErrStopped", err)
			}
			if err := w.Close(); !errors.Is(err, ErrStopped) {
				t.Errorf("close: %v, want ErrStopped", err)
			}
			if s := logged.String(); !strings.Contains(s, "bug") || !strings.Contains(s, "audit.(*Writer)") {
				t.Errorf("the panic and its stack were not logged: %s", s)
			}
			rep, err := VerifyFile(path, ringOf(k.testKey), nil)
			if err != nil || rep.Records != 2 {
				t.Fatalf("log after the panic: %d records (%v), want the 2 acknowledged", rep.Records, err)
			}
			w, err = Open(path, Options{Node: "us-cbp", Signer: k, Verifier: ringOf(k.testKey), Now: stepClock()})
			if err != nil {
				t.Fatal(err)
			}
			if r := mustAppend(t, w, KindQuery, queryEvent(30, RoleResponder)); r.Seq != 3 {
				t.Errorf("first record after reopening: seq %d, want 3", r.Seq)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
