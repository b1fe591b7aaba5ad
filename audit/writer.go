package audit

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
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
// appending. It reads the last record to continue the chain; if the last
// line is torn it fails with [ErrTornTail] and the log must be repaired
// with [Repair] first. It does not verify the log; use [VerifyFile].
func Open(path string, opts Options) (*Writer, error) {
	if !ValidNodeName(opts.Node) || opts.Signer == nil || !validKeyID(opts.Signer.SignerID()) {
		return nil, fmt.Errorf("audit: open %s: a valid node name and a signer with a key ID are required", path)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 64
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
	if err := w.resume(); err != nil {
		f.Close()
		return nil, err
	}
	go w.run()
	return w, nil
}

// resume reads the log's last record to continue the chain from it.
func (w *Writer) resume() error {
	if _, err := w.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	w.seq, w.prev = 0, zeroHash
	return lines(w.f, func(n int, off int64, line []byte, complete bool) error {
		if !complete {
			return &BadRecordError{File: w.path, Line: n, Offset: off, Err: ErrTornTail}
		}
		rec, err := parseLine(line)
		if err != nil {
			return &BadRecordError{File: w.path, Line: n, Offset: off, Err: err}
		}
		body, _ := rec.body()
		h := recordHash(body)
		w.seq, w.prev = rec.Seq, hex.EncodeToString(h[:])
		if rec.Kind == KindCheckpoint {
			w.prev = rec.Prev
		}
		w.last, _ = rec.ParsedTime()
		return nil
	})
}

// Path returns the log's file name.
func (w *Writer) Path() string { return w.path }

// Append validates ev, writes it as the next record of kind k, and returns
// the record once it is durable (written and fsynced). It fails with
// [ErrInvalidEvent] for a bad event (nothing is written) and [ErrClosed]
// after Close. It does not wait for ctx once the record is queued.
func (w *Writer) Append(ctx context.Context, k Kind, ev Event) (Record, error) {
	if k == KindCheckpoint {
		return Record{}, fmt.Errorf("%w: checkpoint records are written only by Prune", ErrInvalidEvent)
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
			req.err = req.op()
			close(req.done)
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
					w.writeBatch(batch)
					batch = nil
					r.err = r.op()
					close(r.done)
					break gather
				}
				batch = append(batch, r)
			default:
				break gather
			}
		}
		w.writeBatch(batch)
	}
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
