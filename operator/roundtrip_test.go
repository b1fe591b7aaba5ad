package operator

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/puente-id/puente/protocol"
	"github.com/puente-id/puente/protocol/wire"
)

// Known values a fakeOperator answers with, every field set.
var (
	knownCeremony = &protocol.CeremonyReport{Partner: "beta", Agreement: "ab", Epoch: 7, ParamSet: "PN14QP438",
		Exchanges: 12, BytesSent: 1 << 20, BytesRecv: 3 << 20, Elapsed: 1500 * time.Millisecond, Acknowledged: true}
	knownEnrol  = &protocol.EnrolReport{Enrolled: 2, Skipped: 1, Total: 30, Epoch: 7}
	knownResult = &protocol.Result{Hit: true, RequestID: "req-1", Epoch: 7, Elapsed: 250 * time.Millisecond,
		BytesSent: 4096, BytesRecv: 1132064}
	knownStatus = &protocol.Status{Node: "alpha",
		Partners: []protocol.PartnerStatus{{Partner: "beta", Agreement: "ab", Epoch: 7, ParamSet: "PN14QP438",
			Enrolled: 30, GalleryEpoch: 6, QuotaUsed: 3, QuotaLimit: "100 per 24h",
			Halted: &protocol.Halt{Partner: "beta", RequestID: "0123456789abcdef0123456789abcdef", At: time.Unix(1700000000, 456).UTC(), Epoch: 7}}},
		Shards: []protocol.ShardStatus{{Address: "shard-0:7443", Serving: true, Agreement: "ab", Epoch: 7,
			Generation: 4, Entries: 30, Blocks: 1}, {Address: "shard-1:7443", Error: "connection refused"}}}
	knownKey     = &protocol.KeyReport{KeyID: "a1b2", Destroyed: []string{"c3d4", "e5f6"}}
	knownGallery = &protocol.GalleryReport{Partner: "beta", File: "galleries/beta.db", Epoch: 7, Subjects: 30,
		Archived: 2, Bad: []string{"0badc0de: MAC does not check"}}
	knownPrune     = &protocol.PruneReport{Dropped: 5, Cutoff: time.Unix(1700000000, 123).UTC(), Retention: "720h"}
	knownLabels    = []string{"v1-00", "v1-01"}
	knownProtected = [][]float64{{0.5, -0.25}, {1, 0}}
)

// fakeOperator records the arguments of each call and answers with the known values, or with err
// when it is set.
type fakeOperator struct {
	err  error
	args []any
}

var _ Operator = (*fakeOperator)(nil)

func (f *fakeOperator) called(args ...any) error {
	f.args = args
	return f.err
}

func (f *fakeOperator) Ceremony(_ context.Context, p string, epoch uint64) (*protocol.CeremonyReport, error) {
	return answer(knownCeremony, f.called(p, epoch))
}

func (f *fakeOperator) Revoke(_ context.Context, p string) (*protocol.CeremonyReport, error) {
	return answer(knownCeremony, f.called(p))
}

func (f *fakeOperator) Enrol(_ context.Context, p string, refs []string, raw [][]float32, o protocol.EnrolOptions) (*protocol.EnrolReport, error) {
	return answer(knownEnrol, f.called(p, refs, raw, o))
}

func (f *fakeOperator) References(_ context.Context, p string, refs []string) ([]string, error) {
	return answer(knownLabels, f.called(p, refs))
}

func (f *fakeOperator) Protect(_ context.Context, p string, raw [][]float64) ([][]float64, uint64, error) {
	if err := f.called(p, raw); err != nil {
		return nil, 0, err
	}
	return knownProtected, 7, nil
}

func (f *fakeOperator) Search(_ context.Context, p string, probe protocol.Probe, purpose string) (*protocol.Result, error) {
	return answer(knownResult, f.called(p, probe, purpose))
}

func (f *fakeOperator) Verify(_ context.Context, p, ref string, probe protocol.Probe, purpose string) (*protocol.Result, error) {
	return answer(knownResult, f.called(p, ref, probe, purpose))
}

func (f *fakeOperator) Status(context.Context) (*protocol.Status, error) {
	return answer(knownStatus, f.called())
}

func (f *fakeOperator) Keys(_ context.Context, req protocol.KeyRequest) (*protocol.KeyReport, error) {
	return answer(knownKey, f.called(req))
}

func (f *fakeOperator) VerifyGallery(_ context.Context, p string) (*protocol.GalleryReport, error) {
	return answer(knownGallery, f.called(p))
}

func (f *fakeOperator) PruneAudit(context.Context) (*protocol.PruneReport, error) {
	return answer(knownPrune, f.called())
}

// answer returns v, or err when it is not nil.
func answer[T any](v T, err error) (T, error) {
	if err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// operations is a table over Operator's methods: how to call each, the arguments the operation
// must receive, and what it answers.
var operations = []struct {
	method string
	call   func(context.Context, Operator) (any, error)
	args   []any
	want   any
}{
	{"Ceremony", func(ctx context.Context, op Operator) (any, error) { return op.Ceremony(ctx, "beta", 7) },
		[]any{"beta", uint64(7)}, knownCeremony},
	{"Revoke", func(ctx context.Context, op Operator) (any, error) { return op.Revoke(ctx, "beta") },
		[]any{"beta"}, knownCeremony},
	{"Enrol", func(ctx context.Context, op Operator) (any, error) {
		return op.Enrol(ctx, "beta", []string{"s1", "s2"}, [][]float32{{0.5, 1}, {-1, 2}}, protocol.EnrolOptions{Resume: true})
	}, []any{"beta", []string{"s1", "s2"}, [][]float32{{0.5, 1}, {-1, 2}}, protocol.EnrolOptions{Resume: true}}, knownEnrol},
	{"References", func(ctx context.Context, op Operator) (any, error) {
		return op.References(ctx, "beta", []string{"s1", "s2"})
	}, []any{"beta", []string{"s1", "s2"}}, knownLabels},
	{"Protect", func(ctx context.Context, op Operator) (any, error) {
		p, epoch, err := op.Protect(ctx, "beta", [][]float64{{1, 2, 3}, {4, 5, 6}})
		return []any{p, epoch}, err
	}, []any{"beta", [][]float64{{1, 2, 3}, {4, 5, 6}}}, []any{knownProtected, uint64(7)}},
	{"Search", func(ctx context.Context, op Operator) (any, error) {
		return op.Search(ctx, "beta", protocol.Probe{Raw: []float64{0.1, 0.2}}, "border-screening")
	}, []any{"beta", protocol.Probe{Raw: []float64{0.1, 0.2}}, "border-screening"}, knownResult},
	{"Verify", func(ctx context.Context, op Operator) (any, error) {
		return op.Verify(ctx, "beta", "v1-00", protocol.Probe{Protected: []float64{1, 0}, Epoch: 6}, "")
	}, []any{"beta", "v1-00", protocol.Probe{Protected: []float64{1, 0}, Epoch: 6}, ""}, knownResult},
	{"Status", func(ctx context.Context, op Operator) (any, error) { return op.Status(ctx) },
		nil, knownStatus},
	{"Keys", func(ctx context.Context, op Operator) (any, error) {
		return op.Keys(ctx, protocol.KeyRequest{Action: "epoch-revoke", Overlap: time.Hour, KeyID: "a1b2", Agreement: "ab", Epoch: 6})
	}, []any{protocol.KeyRequest{Action: "epoch-revoke", Overlap: time.Hour, KeyID: "a1b2", Agreement: "ab", Epoch: 6}}, knownKey},
	{"VerifyGallery", func(ctx context.Context, op Operator) (any, error) { return op.VerifyGallery(ctx, "beta") },
		[]any{"beta"}, knownGallery},
	{"PruneAudit", func(ctx context.Context, op Operator) (any, error) { return op.PruneAudit(ctx) },
		nil, knownPrune},
}

// TestOperatorRoundTrip calls every Operator method through the schema (a Client, a server on a
// unix socket, a fake operation): the operation receives the arguments given to the client, and
// the client returns what the operation answered, or an error with its message, code, sentinels
// and causes.
func TestOperatorRoundTrip(t *testing.T) {
	t.Parallel()
	var methods []string
	for m := range reflect.TypeFor[Operator]().Methods() {
		methods = append(methods, m.Name)
	}
	for _, o := range operations {
		methods = slices.DeleteFunc(methods, func(m string) bool { return m == o.method })
	}
	if len(methods) > 0 {
		t.Fatalf("the table has no row for %v", methods)
	}
	fake := new(fakeOperator)
	c := serveSocket(t, fake)
	ctx := context.Background()
	for _, o := range operations {
		fake.err, fake.args = nil, nil
		got, err := o.call(ctx, c)
		if err != nil {
			t.Errorf("%s: %v", o.method, err)
			continue
		}
		if !reflect.DeepEqual(fake.args, o.args) {
			t.Errorf("%s: the operation received %#v, want %#v", o.method, fake.args, o.args)
		}
		if !reflect.DeepEqual(got, o.want) {
			t.Errorf("%s: the client returned %#v, want %#v", o.method, got, o.want)
		}

		orig := fmt.Errorf("fake: %s: %w", o.method, wire.Precondition("no epoch", errors.New("no key ceremony with beta yet")))
		fake.err = orig
		_, err = o.call(ctx, c)
		var oe *Error
		if !errors.As(err, &oe) || oe.Code != codeOf(orig) || err.Error() != orig.Error() {
			t.Errorf("%s: failure over the socket %#v, want an *Error %q with code %v", o.method, err, orig, codeOf(orig))
			continue
		}
		if !errors.Is(err, protocol.ErrPrecondition) || errors.Is(err, protocol.ErrInvalid) {
			t.Errorf("%s: %v loses its sentinel over the socket", o.method, err)
		}
		if got, want := Causes(err), Causes(orig); !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("%s: causes over the socket %q, in process %q", o.method, got, want)
		}
	}
}
