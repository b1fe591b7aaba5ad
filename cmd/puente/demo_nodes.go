package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/home"
	"github.com/puente-id/puente/internal/demo"
	"github.com/puente-id/puente/operator"
	"github.com/puente-id/puente/protect"
	"github.com/puente-id/puente/protocol"
)

// The demo's agreement, as two agencies would write it with puente partner add.
const (
	demoAgreement = "us-co"
	demoPurpose   = "border-screening"
	demoQuota     = "1000 per 24h"
	demoVerify    = "5 per 24h"
	demoTau       = 0.9234 // PolyProtect's threshold at FMR 1e-3 on LFW (docs/evaluation.md)
)

// demoTransform is the agreement's transform: partner add's defaults.
var demoTransform = protect.Params{Scheme: protect.PolyProtect, InputDim: 128, Order: 5, Overlap: 4, Scale: 1}

// demoNode is one agency's node in the demo: its home, its `puente serve` process, the relay
// its partner reaches it through, and the operator client of its socket.
type demoNode struct {
	name   string
	home   string
	listen string
	card   *home.Card
	relay  *demo.Relay
	// held keeps the node's listen port bound from newDemoNode until its serve starts, so that
	// no other port the demo picks (the other node's, a relay's) is the same one.
	held net.Listener

	proc    *exec.Cmd
	log     *os.File
	exited  chan struct{}
	waitErr error
	op      *operator.Client
}

// newDemoNode makes the node's home (as puente init does) and the relay in front of it.
func newDemoNode(ctx context.Context, dir, name string, test bool) (_ *demoNode, err error) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			held.Close()
		}
	}()
	listen := held.Addr().String()
	n := &demoNode{name: name, home: filepath.Join(dir, name), listen: listen, held: held}
	if sock := home.AdminSocketFile(n.home); len(sock) > 100 {
		return nil, fmt.Errorf("%s: the operator socket's path would be %d bytes, too long for a Unix socket; use a shorter -dir", dir, len(sock))
	}
	if n.card, err = home.InitHome(ctx, n.home, home.InitOptions{Node: name, Listen: listen, TestNode: test, NewState: protocol.CreateState}); err != nil {
		return nil, err
	}
	if n.relay, err = demo.NewRelay("127.0.0.1:0", listen); err != nil {
		return nil, err
	}
	return n, nil
}

// release gives the node's listen port up for its serve to bind.
func (n *demoNode) release() {
	if n.held != nil {
		n.held.Close()
		n.held = nil
	}
}

// addPartner adds p as n's partner, as puente partner add does, reaching p through its relay,
// and appends the printed block to n's key policy, as n's privacy officer would.
func (n *demoNode) addPartner(p *demoNode, params string) error {
	block, err := home.AddPartner(n.home, p.card, home.PartnerOptions{Agreement: demoAgreement, Address: p.relay.Addr(),
		Purposes: []string{demoPurpose}, HEParams: params, Threshold: demoTau, Transform: demoTransform, VerifyLimit: demoVerify}, demoQuota)
	if err != nil {
		return err
	}
	_, policyFile, _, err := home.HomePaths(n.home)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(policyFile, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString("\n" + block)
	return errors.Join(err, f.Close())
}

// start runs `puente serve` for the node (exe is this binary) and waits until its operator
// socket answers. Its logs go to serve.log in its home.
func (n *demoNode) start(ctx context.Context, exe string) error {
	var err error
	if n.log, err = os.Create(filepath.Join(n.home, "serve.log")); err != nil {
		return err
	}
	n.release()
	n.proc = exec.Command(exe, "serve", "-home", n.home, "-log-level", "warn")
	n.proc.Stdout, n.proc.Stderr = n.log, n.log
	n.proc.SysProcAttr = childProcAttr()
	if err := n.proc.Start(); err != nil {
		n.proc = nil
		return fmt.Errorf("start %s's node: %w", n.name, err)
	}
	n.exited = make(chan struct{})
	go func() { n.waitErr = n.proc.Wait(); close(n.exited) }()
	sock := home.AdminSocketFile(n.home)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
		select {
		case <-n.exited:
			return fmt.Errorf("%s's node exited at start (%v): %s", n.name, n.waitErr, n.logTail())
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		if c, err := operator.Dial(sock); err == nil {
			n.op = c
			return nil
		}
	}
	return fmt.Errorf("%s's node did not open its operator socket %s within 2 minutes: %s", n.name, sock, n.logTail())
}

// pid returns the serve process's ID.
func (n *demoNode) pid() int { return n.proc.Process.Pid }

// stop asks the serve process to shut down (SIGTERM, as an init system would), waits for it,
// and kills it if it has not stopped within a minute. It reports an unclean exit.
func (n *demoNode) stop() error {
	if n.proc == nil {
		return nil
	}
	defer func() { n.proc = nil; n.log.Close() }()
	n.proc.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(time.Minute):
		n.proc.Process.Kill()
		<-n.exited
		return fmt.Errorf("%s's node did not stop within a minute of SIGTERM and was killed", n.name)
	}
	if n.waitErr != nil {
		return fmt.Errorf("%s's node exited with %v: %s", n.name, n.waitErr, n.logTail())
	}
	return nil
}

// logTail returns the last lines of the node's log, on one line.
func (n *demoNode) logTail() string {
	b, err := os.ReadFile(filepath.Join(n.home, "serve.log"))
	if err != nil || len(b) == 0 {
		return "no log"
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return "log: " + strings.Join(lines[max(0, len(lines)-3):], " | ")
}

// verifyAudit checks the node's audit log (hash chain and signatures) with its own keyring and
// returns the number of records.
func (n *demoNode) verifyAudit(ctx context.Context) (int, error) {
	ring, err := loadKeyring(ctx, n.home, "")
	if err != nil {
		return 0, err
	}
	_, _, logFile, err := home.HomePaths(n.home)
	if err != nil {
		return 0, err
	}
	rep, err := audit.VerifyFile(logFile, ring, nil)
	if err != nil {
		return 0, fmt.Errorf("%s's audit log: %w", n.name, err)
	}
	return rep.Records, nil
}
