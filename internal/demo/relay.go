package demo

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// Relay forwards every TCP connection it accepts to a target address and counts the bytes that
// pass in each direction: what crossed the wire, TLS records and all. It reads nothing of what
// it forwards.
type Relay struct {
	lis    net.Listener
	target string
	up     atomic.Int64 // from the connecting side to the target
	down   atomic.Int64 // from the target back
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// NewRelay listens on listen (e.g. "127.0.0.1:0") and forwards to target until Close.
func NewRelay(listen, target string) (*Relay, error) {
	lis, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	r := &Relay{lis: lis, target: target, conns: map[net.Conn]struct{}{}}
	r.wg.Add(1)
	go r.accept()
	return r, nil
}

// Addr is the address the relay listens on.
func (r *Relay) Addr() string { return r.lis.Addr().String() }

// Bytes returns the bytes forwarded so far toward the target (up) and back (down).
func (r *Relay) Bytes() (up, down int64) { return r.up.Load(), r.down.Load() }

// Close stops accepting, closes the connections in flight and waits for them to end.
func (r *Relay) Close() error {
	err := r.lis.Close()
	r.mu.Lock()
	r.closed = true
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
	return err
}

func (r *Relay) accept() {
	defer r.wg.Done()
	for {
		c, err := r.lis.Accept()
		if err != nil {
			return
		}
		t, err := net.Dial("tcp", r.target)
		if err != nil {
			c.Close()
			continue
		}
		if !r.track(c, t) {
			return
		}
		r.wg.Add(2)
		go r.pipe(t, c, &r.up)
		go r.pipe(c, t, &r.down)
	}
}

// track registers a pair of connections; false if the relay closed meanwhile.
func (r *Relay) track(cs ...net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	for _, c := range cs {
		r.conns[c] = struct{}{}
	}
	return true
}

// pipe copies src to dst, counting, then closes both (which ends the other direction too).
func (r *Relay) pipe(dst, src net.Conn, n *atomic.Int64) {
	defer r.wg.Done()
	// An error is how a pipe normally ends: the peer or the other direction closed.
	io.Copy(&counter{w: dst, n: n}, src)
	src.Close()
	dst.Close()
	r.mu.Lock()
	delete(r.conns, src)
	delete(r.conns, dst)
	r.mu.Unlock()
}

type counter struct {
	w io.Writer
	n *atomic.Int64
}

// Write counts p before writing it, so that the count is never behind what the receiver has
// read, and takes back what was not written.
func (c *counter) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	k, err := c.w.Write(p)
	c.n.Add(int64(k - len(p)))
	return k, err
}
