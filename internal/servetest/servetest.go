// Package servetest starts `puente serve` processes for Puente's multi-process tests (tests,
// tests/records, tests/shards) and learns that each serves from its serving line, which serve
// prints only once its operator socket is up: never by polling the socket.
package servetest

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Log is a serve process's log: its stderr and stdout, written by the process's copiers while
// the test may read it.
type Log struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what the process wrote so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startLimit bounds how long a serve may take to print its serving line: past it the test fails
// (a hang, not a slow start).
const startLimit = time.Minute

// Start starts cmd, a `puente serve` whose operator socket is sock, with its stderr and stdout
// in the returned log, and returns once serve has printed its serving line: the socket must then
// answer at once. A serve that ends without the line, or prints none within a minute, is killed
// and fails the test with its log; name names the node in the messages.
func Start(t testing.TB, name string, cmd *exec.Cmd, sock string) *Log {
	t.Helper()
	log := &Log{}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first := make(chan string, 1)
	go func() {
		r := bufio.NewReader(out)
		line, _ := r.ReadString('\n')
		log.Write([]byte(line))
		first <- line
		io.Copy(log, r) // the rest of stdout, kept with the log
	}()
	var line string
	select {
	case line = <-first:
	case <-time.After(startLimit):
		cmd.Process.Kill()
		line = <-first
	}
	if !strings.Contains(line, " serving on ") {
		cmd.Process.Kill()
		err := cmd.Wait()
		t.Fatalf("%s did not start: no serving line (serve ended: %v):\n%s", name, err, log)
	}
	c, err := net.Dial("unix", sock)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("%s printed its serving line before its operator socket answered: %v\n%s", name, err, log)
	}
	c.Close()
	return log
}
