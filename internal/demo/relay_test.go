package demo

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// echoServer greets every connection with "hi" and then writes back what it reads.
func echoServer(t *testing.T) net.Listener {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.Write([]byte("hi"))
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					c.Write(buf[:n])
				}
			}()
		}
	}()
	t.Cleanup(func() { lis.Close() })
	return lis
}

func TestRelayCounts(t *testing.T) {
	srv := echoServer(t)
	r, err := NewRelay("127.0.0.1:0", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c, err := net.Dial("tcp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	msg := bytes.Repeat([]byte("puente"), 1000)
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 2+len(msg))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if string(got[:2]) != "hi" || !bytes.Equal(got[2:], msg) {
		t.Fatal("the relay changed the bytes")
	}
	up, down := r.Bytes()
	if up != int64(len(msg)) || down != int64(2+len(msg)) {
		t.Errorf("counted %d up and %d down, want %d and %d", up, down, len(msg), 2+len(msg))
	}
	c.Close()
}

// TestRelayClose: Close ends connections in flight and returns; a dead target closes the
// client's connection without counting anything.
func TestRelayClose(t *testing.T) {
	srv := echoServer(t)
	r, err := NewRelay("127.0.0.1:0", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("x"))
	io.ReadFull(c, make([]byte, 3))
	done := make(chan struct{})
	go func() { r.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return with a connection open")
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("the connection survived Close")
	}

	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := dead.Addr().String()
	dead.Close()
	r2, err := NewRelay("127.0.0.1:0", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	c2, err := net.Dial("tcp", r2.Addr())
	if err != nil {
		t.Fatal(err)
	}
	c2.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c2.Read(make([]byte, 1)); err == nil {
		t.Error("a connection to a dead target stayed open")
	}
	if up, down := r2.Bytes(); up != 0 || down != 0 {
		t.Errorf("counted %d and %d bytes to a dead target", up, down)
	}
}

func TestPickClearAndBestScores(t *testing.T) {
	g := [][]float64{{1, 0}, {0, 1}}
	p := [][]float64{{0.6, 0.8}, {0.96, 0.28}, {-1, 0}}
	best := BestScores(g, p)
	want := []float64{0.8, 0.96, 0}
	for i := range want {
		if d := best[i] - want[i]; d > 1e-12 || d < -1e-12 {
			t.Errorf("best score %d: %v, want %v", i, best[i], want[i])
		}
	}
	if i, skipped, ok := PickClear([]float64{0.93, 0.91, 0.95}, 0.92, 0.02, true); !ok || i != 2 || skipped != 2 {
		t.Errorf("clear hit: %d %d %v, want 2 2 true", i, skipped, ok)
	}
	if i, skipped, ok := PickClear([]float64{0.91, 0.89}, 0.92, 0.02, false); !ok || i != 1 || skipped != 1 {
		t.Errorf("clear miss: %d %d %v, want 1 1 true", i, skipped, ok)
	}
	if _, skipped, ok := PickClear([]float64{0.93, 0.91}, 0.92, 0.02, true); ok || skipped != 2 {
		t.Errorf("no clear hit: %d %v, want 2 false", skipped, ok)
	}
}
