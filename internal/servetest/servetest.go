// Package servetest is what Puente's multi-process tests (tests, tests/records, tests/shards)
// share: it runs puente commands, finds free ports, and starts `puente serve` processes,
// learning that each serves from its serving line, which serve prints only once its operator
// socket is up: never by polling the socket.
package servetest

import (
	"bufio"
	"bytes"
	"fmt"
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

// FreeAddr returns a loopback address with a port free at the time of the call.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Run runs the binary bin with args and returns its standard output, or, unless it exits 0, an
// error carrying the command, its exit status and both outputs. It may be called from any
// goroutine.
func Run(bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("puente %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String(), nil
}
