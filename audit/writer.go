package audit

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/puente-id/puente/internal/atomicfile"
)

// Signer signs audit records. keys.SigningKey implements it.
type Signer interface {
	// SignerID returns the hex key ID recorded with each record.
	SignerID() string
	// Sign returns an ML-DSA-65 signature of msg under context domain.
	Sign(domain string, msg []byte) ([]byte, error)
}

// Options configure a [Writer].
type Options struct {
	Node   string // this node's name, recorded as "who"
	Signer Signer
	// Now is the clock; nil means time.Now. Times are clamped so they
	// never decrease along the log.
	Now func() time.Time
	// MaxBatch bounds how many records share one write and fsync;
	// default 64.
	MaxBatch int
	// Verifier checks the log when it is opened (keys.Keyring of the node); required.
	Verifier Verifier
	// Scan, if set, is called with every record of the log as Open checks it (see
	// VerifyOptions.Each); an error fails Open.
	Scan func(rec *Record, hash string) error
	// Logger receives the stack of a panic on the writer's goroutine ([ErrStopped]); nil
	// discards it.
	Logger *slog.Logger
}

// Writer appends signed records to a log file. It is safe for concurrent
// use.
type Writer struct {
	path string
	opts Options
	reqs chan *request
	done chan struct{}

	// mu guards closed: submitters hold it shared while they queue a
	// request, Close exclusively while it closes the queue.
	mu     sync.RWMutex
	closed bool

	// Owned by the run goroutine.
	f    *os.File
	seq  uint64
	prev string
	last time.Time
	err  error // sticky: after a failed write the log may be torn
	// headErr is the last failure to update the head file. The records
	// were durable; the head stays behind the log (weakening truncation
	// detection only) until a later batch or Close updates it.
	headErr error
}

type request struct {
	rec  Record       // the record to write (Kind, Event, Count, Head); then the record written
	op   func() error // a maintenance operation instead of a record
	err  error
	done chan struct{}
}

// Open opens (creating if needed, mode 0600) the log at path for
// appending, after checking it against its head file: every record's form,
// fields, seq, prev and time order, the signature of the last record (which
// covers the chain before it), and that the log reaches its head. It
// refuses, naming the first bad record ([*BadRecordError]), a log that does
// not check out: a torn last line ([ErrTornTail]; see [Repair]), an edited,
// removed or reordered record, a log cut before its head ([ErrTruncated]),
// and a log with records but no head file, or a head file but no log
// ([ErrNoHead]); [AcceptLoss] is the explicit way past the last three. A
// missing log with no head file is a new log.
func Open(path string, opts Options) (*Writer, error) {
	if opts.Verifier == nil {
		return nil, fmt.Errorf("audit: open %s: a verifier is required (the log is checked before it is written)", path)
	}
	return open(path, opts, true)
}

// open opens the log; check is false only for Repair and AcceptLoss, which checked it
// themselves.
func open(path string, opts Options, check bool) (*Writer, error) {
	if !ValidNodeName(opts.Node) || opts.Signer == nil || !validKeyID(opts.Signer.SignerID()) {
		return nil, fmt.Errorf("audit: open %s: a valid node name and a signer with a key ID are required", path)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 64
	}
	head, err := ReadHead(path)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && head != nil && check {
		return nil, &BadRecordError{File: path, Line: 1, Seq: 1, Err: fmt.Errorf("%w: the log is missing but its head file names record %d", ErrNoHead, head.Seq)}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, err
	}
	w := &Writer{path: path, opts: opts, f: f, reqs: make(chan *request, opts.MaxBatch), done: make(chan struct{})}
	if err := w.resume(head, check); err != nil {
		f.Close()
		return nil, err
	}
	go w.run()
	return w, nil
}

// resume checks the log (when check is set) and continues the chain from its last record.
func (w *Writer) resume(head *Head, check bool) error {
	if _, err := w.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	v := w.opts.Verifier
	if !check {
		v = acceptAll{}
		head = nil
	}
	rep, err := Verify(w.f, v, VerifyOptions{Head: head, File: w.path, LastSignatureOnly: true, Each: w.opts.Scan})
	if err != nil {
		return err
	}
	if check && head == nil && rep.Records > 0 {
		return &BadRecordError{File: w.path, Line: rep.Records + 1, Seq: rep.Last.Seq + 1,
			Err: fmt.Errorf("%w: the log has %d records but no head file %s (deleted?)", ErrNoHead, rep.Records, headPath(w.path))}
	}
	w.seq, w.prev, w.last = rep.Last.Seq, rep.Last.Hash, rep.LastTime
	if rep.Records == 0 {
		w.prev = zeroHash
	}
	return nil
}

// acceptAll is the verifier of a log Repair has checked already.
type acceptAll struct{}

func (acceptAll) Verify(string, time.Time, string, []byte, []byte) error { return nil }

// Path returns the log's file name.
func (w *Writer) Path() string { return w.path }

// Append validates ev, writes it as the next record of kind k, and returns
// the record once it is durable (written and fsynced). It fails with
// [ErrInvalidEvent] for a bad event (nothing is written), [ErrClosed]
// after Close, and [ErrStopped] once a panic stopped the writer. It does not wait for ctx once the record is queued.
func (w *Writer) Append(ctx context.Context, k Kind, ev Event) (Record, error) {
	if k == KindCheckpoint || k == KindRefusals {
		return Record{}, fmt.Errorf("%w: %s records are written only by Prune and AppendRefusals", ErrInvalidEvent, k)
	}
	if err := ev.Validate(k); err != nil {
		return Record{}, err
	}
	req := &request{rec: Record{Kind: k, Event: ev}, done: make(chan struct{})}
	if err := w.submit(ctx, req); err != nil {
		return Record{}, err
	}
	return req.rec, req.err
}

// submit hands req to the run goroutine and waits for its answer.
func (w *Writer) submit(ctx context.Context, req *request) error {
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return ErrClosed
	}
	select {
	case w.reqs <- req:
		w.mu.RUnlock()
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	<-req.done
	return nil
}

// run is the single goroutine that owns the file: it gathers waiting
// requests into a batch, writes and fsyncs them once, and answers each.
func (w *Writer) run() {
	defer close(w.done)
	for req := range w.reqs {
		if req.op != nil {
			w.do(req)
			continue
		}
		batch := []*request{req}
	gather:
		for len(batch) < w.opts.MaxBatch {
			select {
			case r, ok := <-w.reqs:
				if !ok {
					break gather
				}
				if r.op != nil {
					w.write(batch)
					batch = nil
					w.do(r)
					break gather
				}
				batch = append(batch, r)
			default:
				break gather
			}
		}
		w.write(batch)
	}
}

// write writes a batch of records (writeBatch), and do runs a maintenance operation, each
// under guard.
func (w *Writer) write(batch []*request) { w.guard(batch, func() { w.writeBatch(batch) }) }

func (w *Writer) do(req *request) {
	w.guard([]*request{req}, func() {
		req.err = req.op()
		close(req.done)
	})
}

// guard runs f, which answers reqs. A panic in f (a bug) stops the writer: the panic may have
// come part way through a write or a prune's replacement of the file, so the log and the
// writer's idea of it may no longer agree. The panic is logged with its stack, the requests
// not yet answered fail, and every later one with them ([ErrStopped], sticky like a failed
// write), so that no record is reported written that is not, and none is written after a tear.
// Open checks the log again.
func (w *Writer) guard(reqs []*request, f func()) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if l := w.opts.Logger; l != nil {
			l.Error("panic in the audit log writer", "log", w.path, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
		w.err = ErrStopped
		for _, q := range reqs {
			select {
			case <-q.done: // answered before the panic
			default:
				q.rec, q.err = Record{}, ErrStopped
				close(q.done)
			}
		}
	}()
	f()
}

// fail records a sticky error: once a write may have torn the log, no
// further record is written.
func (w *Writer) fail(err error) error {
	if err != nil && w.err == nil {
		w.err = err
	}
	return err
}

func (w *Writer) writeBatch(batch []*request) {
	if len(batch) == 0 {
		return
	}
	var buf bytes.Buffer
	seq, prev, last := w.seq, w.prev, w.last
	err := w.err
	for _, r := range batch {
		if err != nil {
			break
		}
		var line []byte
		r.rec, line, prev, last, err = w.seal(seq+1, prev, last, r.rec)
		if err == nil {
			buf.Write(line)
			buf.WriteByte('\n')
			seq = r.rec.Seq
		}
	}
	if err == nil {
		if _, err = w.f.Write(buf.Bytes()); err == nil {
			err = w.f.Sync()
		}
		if err != nil {
			err = w.fail(fmt.Errorf("audit: writing %s: %w", w.path, err))
		} else {
			// The records are durable whatever happens to the head.
			w.seq, w.prev, w.last = seq, prev, last
			w.headErr = writeHead(w.path, Head{Seq: seq, Hash: prev})
		}
	}
	for _, r := range batch {
		if err != nil {
			r.rec, r.err = Record{}, err
		}
		close(r.done)
	}
}

func (w *Writer) clamp(last time.Time) time.Time {
	t := w.opts.Now().UTC()
	if t.Before(last) {
		return last
	}
	return t
}

// seal completes rec (its kind, event, count and head set by the caller)
// as record seq after prev, hashes and signs it; it returns the record, its
// line, its chain hash and its time.
func (w *Writer) seal(seq uint64, prev string, last time.Time, rec Record) (Record, []byte, string, time.Time, error) {
	t := w.clamp(last)
	rec.Format, rec.Seq, rec.Time, rec.Node = recordFormat, seq, FormatTime(t), w.opts.Node
	rec.Prev, rec.Signer, rec.Sig = prev, w.opts.Signer.SignerID(), ""
	body, err := rec.body()
	if err != nil {
		return Record{}, nil, "", t, err
	}
	h := recordHash(body)
	sig, err := w.opts.Signer.Sign(Domain, h[:])
	if err != nil {
		return Record{}, nil, "", t, fmt.Errorf("audit: signing record %d: %w", seq, err)
	}
	rec.Sig = base64.StdEncoding.EncodeToString(sig)
	line, err := marshal(&rec)
	return rec, line, hex.EncodeToString(h[:]), t, err
}

// writeHead replaces the head file atomically.
func writeHead(log string, h Head) error {
	path := headPath(log)
	if err := atomicfile.WriteFile(path, []byte(headMagic+" "+h.String()+"\n"), 0o600); err != nil {
		return fmt.Errorf("head file %s: %w", path, err)
	}
	return nil
}

// Close finishes every accepted append, then closes the file. Appends
// after Close fail with ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.closed = true
	close(w.reqs)
	w.mu.Unlock()
	<-w.done
	err := w.f.Sync()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("audit: closing %s: %w", w.path, err)
	}
	if w.err == nil && w.headErr != nil {
		if w.headErr = writeHead(w.path, Head{Seq: w.seq, Hash: w.prev}); w.headErr != nil {
			return fmt.Errorf("audit: closing %s: every record is durable, but the head is behind: %w", w.path, w.headErr)
		}
	}
	return w.err
}

// Head returns the last durable record's seq and hash.
func (w *Writer) Head(ctx context.Context) (Head, error) {
	var h Head
	req := &request{op: func() error { h = Head{Seq: w.seq, Hash: w.prev}; return nil }, done: make(chan struct{})}
	if err := w.submit(ctx, req); err != nil {
		return Head{}, err
	}
	return h, req.err
}

// SetSigner makes s sign the records appended from now on (after a rotation of the node's
// signing key). Records already accepted are signed by the signer they were accepted under
// only if they were written before the call returns; the call waits for them.
func (w *Writer) SetSigner(ctx context.Context, s Signer) error {
	if s == nil || !validKeyID(s.SignerID()) {
		return fmt.Errorf("audit: a signer with a key ID is required")
	}
	req := &request{op: func() error { w.opts.Signer = s; return nil }, done: make(chan struct{})}
	if err := w.submit(ctx, req); err != nil {
		return err
	}
	return req.err
}

// AppendLog appends a log-maintenance record: action (e.g. "state-rebuilt") and a count.
func (w *Writer) AppendLog(ctx context.Context, action string, count uint64) (Record, error) {
	ev := Event{Action: action}
	if err := ev.Validate(KindLog); err != nil {
		return Record{}, err
	}
	req := &request{rec: Record{Kind: KindLog, Event: ev, Count: count}, done: make(chan struct{})}
	if err := w.submit(ctx, req); err != nil {
		return Record{}, err
	}
	return req.rec, req.err
}

// AppendRefusals appends the summary of count refusals (of class) of one unauthenticated
// source over an interval.
func (w *Writer) AppendRefusals(ctx context.Context, source string, class RefusalClass, count uint64) (Record, error) {
	return w.appendRefusals(ctx, Event{Source: source, Refusal: class}, count)
}

// AppendPartnerRefusals appends the summary of count refusals (of class) of one partner over
// an interval: its calls past a limit, which are not audited one by one.
func (w *Writer) AppendPartnerRefusals(ctx context.Context, partner string, class RefusalClass, count uint64) (Record, error) {
	return w.appendRefusals(ctx, Event{Partner: partner, Refusal: class}, count)
}

func (w *Writer) appendRefusals(ctx context.Context, ev Event, count uint64) (Record, error) {
	if err := ev.Validate(KindRefusals); err != nil {
		return Record{}, err
	}
	if count == 0 {
		return Record{}, fmt.Errorf("%w: a refusals record counts at least one refusal", ErrInvalidEvent)
	}
	req := &request{rec: Record{Kind: KindRefusals, Event: ev, Count: count}, done: make(chan struct{})}
	if err := w.submit(ctx, req); err != nil {
		return Record{}, err
	}
	return req.rec, req.err
}
