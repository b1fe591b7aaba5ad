package gallery

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// The crash tests re-execute the test binary as a child that works on a gallery file and is
// killed with SIGKILL at a chosen point; the parent then reopens the file and checks that it
// holds the state before or after the interrupted write, never one in between.

const (
	envCrashPath  = "PUENTE_GALLERY_CRASH_PATH"
	envCrashMode  = "PUENTE_GALLERY_CRASH_MODE"
	envCrashPoint = "PUENTE_GALLERY_CRASH_POINT"
	crashBatch    = 50
)

// awaitKill blocks the crash helper process until the test kills it (SIGKILL; a SIGTERM ends it
// too): the test learns where it stopped from the line it printed before.
func awaitKill() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	<-stop
	os.Exit(2)
}

// TestCrashHelperProcess is the child. It does nothing unless started by startChild.
func TestCrashHelperProcess(t *testing.T) {
	path := os.Getenv(envCrashPath)
	if path == "" {
		return
	}
	point := os.Getenv(envCrashPoint)
	s, err := Open(path, testKey(t, 0xD1), testOptions(t))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	s.hook = func(p string) error {
		if p == point {
			fmt.Println("at " + p)
			awaitKill()
		}
		return nil
	}
	switch os.Getenv(envCrashMode) {
	case "enrol":
		// Enrol batch after batch, reporting each commit, until killed.
		for b := 1; ; b++ {
			if err := s.Enrol(newTestProtector(1), batchOf(b*crashBatch, (b+1)*crashBatch)); err != nil {
				fmt.Println("error", err)
				os.Exit(1)
			}
			fmt.Println("committed", b)
		}
	case "reprotect":
		s.reprotectBatch = 20
		fmt.Println("reprotecting")
		err = s.Reprotect(context.Background(), newTestProtector(2))
		fmt.Println("reprotected", err)
		awaitKill()
	}
}

// startChild runs the child on path and returns it with a reader of its output lines.
func startChild(t *testing.T, path, mode, point string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), envCrashPath+"="+path, envCrashMode+"="+mode, envCrashPoint+"="+point)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, bufio.NewScanner(out)
}

// waitFor reads the child's lines until one starts with prefix, and returns it.
func waitFor(t *testing.T, sc *bufio.Scanner, prefix string) string {
	t.Helper()
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "error") {
			t.Fatalf("child: %s", line)
		}
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	t.Fatalf("child ended before %q", prefix)
	return ""
}

func kill(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
}

// seededGallery makes a closed gallery of subjects 0..n-1 at epoch 1 and returns its path.
func seededGallery(t *testing.T, n int) string {
	t.Helper()
	s := newTestStore(t)
	if err := s.Enrol(newTestProtector(1), batchOf(0, n)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	return s.Path()
}

func reopen(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path, testKey(t, 0xD1), testOptions(t))
	if err != nil {
		t.Fatalf("reopening after the crash: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestCrashMidEnrolment kills the child after a batch's records are written but before the
// transaction commits: the gallery must be exactly as before the batch.
func TestCrashMidEnrolment(t *testing.T) {
	path := seededGallery(t, crashBatch)
	cmd, sc := startChild(t, path, "enrol", "enrol-before-commit")
	waitFor(t, sc, "at enrol-before-commit")
	kill(t, cmd)
	s := reopen(t, path)
	checkContents(t, s, 1, span(0, crashBatch))
	checkLastChange(t, s, 1, crashBatch)
}

// checkLastChange checks that the gallery's last change is the seq-th and left total subjects.
func checkLastChange(t *testing.T, s *Store, seq uint64, total int) {
	t.Helper()
	if c, err := s.LastChange(); err != nil || c.Seq != seq || c.Total != total {
		t.Errorf("last change after the crash: %+v %v, want change %d leaving %d subjects", c, err, seq, total)
	}
}

// TestCrashDuringEnrolments kills the child at an arbitrary moment of a stream of batch
// enrolments: every batch is present whole or absent whole, and every committed one is there.
func TestCrashDuringEnrolments(t *testing.T) {
	path := seededGallery(t, crashBatch)
	cmd, sc := startChild(t, path, "enrol", "")
	line := waitFor(t, sc, "committed 3")
	kill(t, cmd) // most likely in the middle of batch 4 or 5
	committed, _ := strconv.Atoi(strings.TrimPrefix(line, "committed "))
	s := reopen(t, path)
	n, err := s.Count()
	if err != nil {
		t.Fatal(err)
	}
	if n%crashBatch != 0 || n < (committed+1)*crashBatch {
		t.Fatalf("after the crash the gallery holds %d subjects: not whole batches of %d, or a committed batch lost",
			n, crashBatch)
	}
	checkContents(t, s, 1, span(0, n))
	checkLastChange(t, s, uint64(n/crashBatch), n)
}

// TestCrashDuringReprotect kills the child at each stage of a re-protection.
func TestCrashDuringReprotect(t *testing.T) {
	const n = 90 // five batches of 20 in the child
	for _, c := range []struct {
		point string
		epoch uint64
	}{
		{"reprotect-batch", 1},         // after the first batch of new records
		{"reprotect-before-switch", 1}, // all new records written, not switched
		{"reprotect-after-switch", 2},  // switched
	} {
		t.Run(c.point, func(t *testing.T) {
			path := seededGallery(t, n)
			cmd, sc := startChild(t, path, "reprotect", c.point)
			waitFor(t, sc, "at "+c.point)
			kill(t, cmd)
			s := reopen(t, path)
			checkContents(t, s, c.epoch, span(0, n))
			path = s.Path()
			s.Close()
			if names := bucketNames(t, path); len(names) != 3 || names[1] != string(epochBucket(c.epoch)) {
				t.Errorf("buckets after the crash and reopening: %q", names)
			}
			// The interrupted re-protection can be run again to completion.
			s = reopen(t, path)
			if c.epoch == 1 {
				if err := s.Reprotect(context.Background(), newTestProtector(2)); err != nil {
					t.Fatal(err)
				}
			}
			checkContents(t, s, 2, span(0, n))
			checkLastChange(t, s, 1, n) // re-protection changes no subject
		})
	}
}
