package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/puente-id/puente/internal/atomicfile"
)

// Prune drops the records dated before cutoff, as the key policy's audit
// retention requires. It first verifies the whole log with v and refuses
// to prune a log that does not verify (that would destroy evidence). The
// new file starts with a signed checkpoint record carrying the seq and hash
// of the last dropped record, and the total dropped so far, followed by the
// kept records unchanged; it replaces the log atomically. A "prune" record
// is then appended. It returns the number of records dropped.
func (w *Writer) Prune(ctx context.Context, cutoff time.Time, v Verifier) (int, error) {
	var n int
	req := &request{done: make(chan struct{})}
	req.op = func() (err error) {
		n, err = w.prune(cutoff, v)
		return err
	}
	if err := w.submit(ctx, req); err != nil {
		return 0, err
	}
	return n, req.err
}

// kept is one line of the log during pruning.
type kept struct {
	line []byte
	rec  *Record
	hash string
}

func (w *Writer) prune(cutoff time.Time, v Verifier) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if _, err := VerifyFile(w.path, v, &Head{Seq: w.seq, Hash: w.prev}); err != nil {
		return 0, fmt.Errorf("audit: not pruning a log that does not verify: %w", err)
	}
	var all []kept
	var total uint64
	f, err := os.Open(w.path)
	if err != nil {
		return 0, fmt.Errorf("audit: %w", err)
	}
	err = lines(f, func(_ int, _ int64, line []byte, _ bool) error {
		rec, err := parseLine(line)
		if err != nil {
			return err
		}
		if rec.Kind == KindCheckpoint {
			total = rec.Count
			return nil
		}
		body, _ := rec.body()
		h := recordHash(body)
		all = append(all, kept{line: append([]byte(nil), line...), rec: rec, hash: fmt.Sprintf("%x", h)})
		return nil
	})
	f.Close()
	if err != nil {
		return 0, fmt.Errorf("audit: %w", err)
	}
	k := 0 // records to drop: a prefix, since times never decrease
	for k < len(all) {
		t, _ := all[k].rec.ParsedTime()
		if !t.Before(cutoff) {
			break
		}
		k++
	}
	if k == 0 {
		return 0, nil
	}
	last := all[k-1]
	// The checkpoint stands for records 1 to last.Seq, all dropped by now (by this prune or an
	// earlier one): its count is its seq, which Verify checks. It is dated no earlier than the
	// records it keeps, and the prune record after it no earlier than it (Verify checks that too),
	// whatever the clock does.
	_, line, _, cpTime, err := w.seal(last.rec.Seq, last.hash, w.last, Record{Kind: KindCheckpoint, Count: total + uint64(k)})
	if err != nil {
		return 0, err
	}
	if err := w.replace(append([][]byte{line}, linesOf(all[k:])...)); err != nil {
		return 0, err
	}
	w.last = cpTime
	// The prune record names the checkpoint's anchor, so that Verify finds it among the prune
	// records of earlier prunes the log keeps.
	pr := &request{rec: Record{Kind: KindLog, Event: Event{Action: actionPrune}, Count: uint64(k), Head: Head{Seq: last.rec.Seq, Hash: last.hash}.String()},
		done: make(chan struct{})}
	w.writeBatch([]*request{pr})
	return k, pr.err
}

// actionPrune is the action of the record a prune appends after its checkpoint.
const actionPrune = "prune"

func linesOf(ks []kept) [][]byte {
	out := make([][]byte, len(ks))
	for i, k := range ks {
		out[i] = k.line
	}
	return out
}

// replace writes lines to a new locked file and renames it over the log;
// on any error before the rename the log is unchanged.
func (w *Writer) replace(lines [][]byte) (err error) {
	tmp := w.path + ".prune.tmp"
	// Only the holder of the log's lock prunes, so a file already here was
	// left by a prune that crashed before its rename: the log was never
	// replaced by it, and it can go.
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("audit: prune: removing a leftover %s: %w", tmp, err)
	}
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("audit: prune: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = lockFile(f); err != nil {
		return err
	}
	for _, l := range lines {
		if _, err = f.Write(append(l, '\n')); err != nil {
			return fmt.Errorf("audit: prune: %w", err)
		}
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("audit: prune: %w", err)
	}
	if err = os.Rename(tmp, w.path); err != nil {
		return fmt.Errorf("audit: prune: %w", err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(w.path)); err != nil {
		w.fail(err)
	}
	w.f.Close()
	w.f = f
	return nil
}

// RepairReport says what [Repair] did.
type RepairReport struct {
	Offset  int64  // where the torn record started
	Bytes   int64  // how many bytes were set aside
	SavedTo string // the file they were saved in
	Head    *Head  // the head file found before the repair (nil: none)
	// Recorded: a signed record of the repair was appended (AcceptLoss found a loss).
	Recorded bool
}

// Repair deals with a torn last record (a crash during a write): it saves
// the torn bytes to "<log>.torn-<offset>", truncates the log to the last
// complete record, and appends a signed "repair" record saying how many
// bytes were set aside and which head the log had before.
//
// It first verifies the log with v against its head file, and repairs only
// if the one fault is a torn last line ([ErrTornTail]). It refuses a log
// damaged anywhere else, and a log whose head names a record past the last
// complete one ([ErrTruncated]): a crash never leaves that, because the
// head is written only after its records are durable, so records were cut
// off and repairing would hide it. For the same reason it refuses a log with
// complete records but no head file ([ErrNoHead]): [AcceptLoss] is the only
// way past that. It returns a zero report if the log verifies. The log must
// not be open in a Writer.
func Repair(path string, v Verifier, opts Options) (RepairReport, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return RepairReport{}, fmt.Errorf("audit: repair: %w", err)
	}
	defer f.Close()
	if err := lockFile(f); err != nil {
		return RepairReport{}, err
	}
	head, err := ReadHead(path)
	if err != nil {
		return RepairReport{}, err
	}
	vrep, err := Verify(f, v, VerifyOptions{Head: head, File: path})
	var bad *BadRecordError
	if err == nil {
		return RepairReport{}, nil
	}
	if !errors.As(err, &bad) || !errors.Is(err, ErrTornTail) {
		return RepairReport{}, fmt.Errorf("audit: repair: not repairing: %w", err)
	}
	if head == nil && vrep.Records > 0 {
		// A crash never leaves complete records without a head file: the writer writes the head
		// after its first batch, and Open refuses a log without one. Records may have been cut off
		// with the head file deleted; only AcceptLoss passes that, with a record of the loss.
		return RepairReport{}, fmt.Errorf("audit: repair: not repairing: %w", &BadRecordError{File: path, Line: bad.Line, Offset: bad.Offset, Seq: vrep.Last.Seq + 1,
			Err: fmt.Errorf("%w: the log has %d complete records but no head file %s (deleted?), so records cut off its end cannot be seen; "+
				"a crash does not do this: only AcceptLoss passes it, recording the loss", ErrNoHead, vrep.Records, headPath(path))})
	}
	rep := RepairReport{Offset: bad.Offset, Head: head}
	if err := setAside(f, path, ".torn-", &rep); err != nil {
		return RepairReport{}, fmt.Errorf("audit: repair: %w", err)
	}
	f.Close()
	opts.Verifier = v
	return rep, appendRepair(path, opts, "repair", uint64(rep.Bytes), head)
}

// setAside saves the log's bytes from rep.Offset to its end in "<log><suffix><offset>" (if there
// are any), truncates the log there and syncs it; it fills rep's Bytes and SavedTo.
func setAside(f *os.File, path, suffix string, rep *RepairReport) error {
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	rep.Bytes = end - rep.Offset
	if rep.Bytes <= 0 {
		rep.Bytes = 0
		return nil
	}
	b := make([]byte, rep.Bytes)
	if _, err := f.ReadAt(b, rep.Offset); err != nil {
		return err
	}
	rep.SavedTo = path + suffix + strconv.FormatInt(rep.Offset, 10)
	if err := atomicfile.WriteFile(rep.SavedTo, b, 0o600); err != nil {
		return fmt.Errorf("saving the bytes set aside: %w", err)
	}
	if err := f.Truncate(rep.Offset); err != nil {
		return err
	}
	return f.Sync()
}

// appendRepair opens the log (checked already by its caller) and appends a signed record of a
// repair: action, the bytes set aside and the head found before (nil: none).
func appendRepair(path string, opts Options, action string, bytes uint64, head *Head) error {
	w, err := open(path, opts, false)
	if err != nil {
		return err
	}
	prevHead := noHead
	if head != nil {
		prevHead = head.String()
	}
	_, err = w.appendLog(Record{Kind: KindLog, Event: Event{Action: action}, Count: bytes, Head: prevHead})
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return err
}

// ActionLossAccepted is the action of the record [AcceptLoss] appends.
const ActionLossAccepted = "loss-accepted"

// AcceptLoss is the explicit way on for a log that does not check out for any reason other than
// a torn last record (see [Repair]): records edited, removed or reordered, the log cut before its
// head, or the head file or the log deleted. It verifies the log with v against its head file
// and, if it does not verify, sets aside every byte from the first bad record to the end in
// "<log>.lost-<offset>" (nothing is deleted), truncates the log there, and appends a signed
// record (action [ActionLossAccepted]) that names the head the log had before and how many bytes
// were set aside; then the head file names the new last record. The loss stays visible: in that
// record, in the file set aside, and to a partner that witnessed a later head. It returns a zero
// report if the log verifies with its head file. The log must not be open in a Writer.
func AcceptLoss(path string, v Verifier, opts Options) (RepairReport, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return RepairReport{}, fmt.Errorf("audit: accept loss: %w", err)
	}
	defer f.Close()
	if err := lockFile(f); err != nil {
		return RepairReport{}, err
	}
	head, err := ReadHead(path)
	if err != nil {
		head = nil // a head file that does not parse is part of what is lost
	}
	_, err = Verify(f, v, VerifyOptions{Head: head, File: path})
	var bad *BadRecordError
	switch {
	case err == nil && head != nil:
		return RepairReport{}, nil
	case err != nil && !errors.As(err, &bad):
		return RepairReport{}, fmt.Errorf("audit: accept loss: %w", err)
	}
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return RepairReport{}, fmt.Errorf("audit: accept loss: %w", err)
	}
	rep := RepairReport{Offset: end, Head: head}
	if bad != nil && bad.Offset < end {
		rep.Offset = bad.Offset
	}
	if err := setAside(f, path, ".lost-", &rep); err != nil {
		return RepairReport{}, fmt.Errorf("audit: accept loss: %w", err)
	}
	f.Close()
	opts.Verifier = v
	err = appendRepair(path, opts, ActionLossAccepted, uint64(rep.Bytes), head)
	rep.Recorded = err == nil
	return rep, err
}

// appendLog appends a record the writer makes itself (a log record with a
// count or a head).
func (w *Writer) appendLog(rec Record) (Record, error) {
	req := &request{rec: rec, done: make(chan struct{})}
	if err := w.submit(context.Background(), req); err != nil {
		return Record{}, err
	}
	return req.rec, req.err
}
