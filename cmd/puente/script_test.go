package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/internal/clitest"
	"github.com/puente-id/puente/operator"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary act as the puente command in the scripts of testdata/script:
// testscript installs it as "puente" on their PATH, so each `exec puente ...` is a separate
// process of this package's main, as a user's shell would run it.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"puente": main})
}

// TestScripts runs the CLI scripts: every subcommand's happy path and its bad input (missing
// file, wrong partner, bad flag), each checked for exit code and message. A script's
// environment has ADDR1 to ADDR4, loopback addresses free when it starts, a HOME of its own, and
// EXAMPLE_POLICY, the key policy example with custodians. The condition [testparams] holds in
// builds made with -tags puente_testparams, which scripts on the INSECURE sets need.
func TestScripts(t *testing.T) {
	example, err := filepath.Abs("../../keys/policy/testdata/example.hcl")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", filepath.Join(env.WorkDir, "home"))
			env.Setenv("EXAMPLE_POLICY", example)
			for i := 1; i <= 4; i++ {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					return err
				}
				env.Setenv("ADDR"+strconv.Itoa(i), l.Addr().String())
				l.Close()
			}
			return os.MkdirAll(filepath.Join(env.WorkDir, "home"), 0o700)
		},
		Condition: func(cond string) (bool, error) {
			if cond == "testparams" { // built with -tags puente_testparams
				return he.TestParamsEnabled(), nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"exits":      clitest.Exits,
			"waitnode":   cmdWaitNode,
			"waitepoch":  cmdWaitEpoch,
			"addpolicy":  cmdAddPolicy,
			"setfrom":    cmdSetFrom,
			"append":     cmdAppend,
			"replace":    cmdReplace,
			"beginepoch": cmdBeginEpoch,
		},
	})
}

// cmdBeginEpoch begins an epoch on a node's files as the key ceremony leaves it (beginEpoch):
// beginepoch HOME PARTNER AGREEMENT EPOCH.
func cmdBeginEpoch(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: beginepoch HOME PARTNER AGREEMENT EPOCH")
	}
	epoch, err := strconv.ParseUint(args[3], 10, 64)
	ts.Check(err)
	ts.Check(beginEpoch(context.Background(), ts.MkAbs(args[0]), args[1], args[2], epoch))
}

// cmdWaitNode waits until the node at HOME serves its operator socket: waitnode HOME.
//
// It polls the socket, the one place where it can see that serve started. The serving line,
// the signal the other harnesses wait for, is out of its reach: a script starts serve with
// `exec puente serve ... &NAME&`, and testscript gives such a background command a
// strings.Builder of its own for stdout, written by os/exec's copying goroutine and readable
// only after `wait NAME` (ts.BackgroundCmds hands out the *exec.Cmd, but reading its Stdout
// while serve runs is a data race). The poll is bounded at a minute.
func cmdWaitNode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitnode HOME")
	}
	sock := filepath.Join(ts.MkAbs(args[0]), "run", "admin.sock")
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return
		}
	}
	ts.Fatalf("no node answered on %s within a minute", sock)
}

// cmdWaitEpoch waits until the running node at HOME has its agreement with PARTNER at epoch N
// and its gallery for that partner re-protected under it: waitepoch HOME PARTNER N.
func cmdWaitEpoch(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: waitepoch HOME PARTNER N")
	}
	want, err := strconv.ParseUint(args[2], 10, 64)
	ts.Check(err)
	c, err := operator.Dial(filepath.Join(ts.MkAbs(args[0]), "run", "admin.sock"))
	ts.Check(err)
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		st, err := c.Status(context.Background())
		ts.Check(err)
		for _, p := range st.Partners {
			if p.Partner == args[1] && p.Epoch == want && p.GalleryEpoch == want {
				return
			}
		}
	}
	ts.Fatalf("%s did not reach epoch %d with %s within a minute", args[0], want, args[1])
}

// cmdAddPolicy appends the partner block that `puente partner add` printed (the last stdout)
// to HOME/policy.hcl, as the privacy officer would: addpolicy HOME.
func cmdAddPolicy(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: addpolicy HOME")
	}
	out := ts.ReadFile("stdout")
	i := strings.Index(out, "partner \"")
	if i < 0 {
		ts.Fatalf("addpolicy: no partner block in the last stdout")
	}
	f, err := os.OpenFile(filepath.Join(ts.MkAbs(args[0]), "policy.hcl"), os.O_APPEND|os.O_WRONLY, 0)
	ts.Check(err)
	_, err = f.WriteString("\n" + out[i:])
	ts.Check(err)
	ts.Check(f.Close())
}

// cmdSetFrom sets an environment variable to the first submatch of a regular expression in the
// last stdout: setfrom VAR REGEXP.
func cmdSetFrom(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: setfrom VAR REGEXP")
	}
	re, err := regexp.Compile(args[1])
	ts.Check(err)
	m := re.FindStringSubmatch(ts.ReadFile("stdout"))
	if len(m) < 2 {
		ts.Fatalf("setfrom: %q does not match the last stdout", args[1])
	}
	ts.Setenv(args[0], m[1])
}

// cmdAppend appends text to a file: append FILE TEXT.
func cmdAppend(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: append FILE TEXT")
	}
	f, err := os.OpenFile(ts.MkAbs(args[0]), os.O_APPEND|os.O_WRONLY, 0)
	ts.Check(err)
	_, err = f.WriteString(args[1])
	ts.Check(err)
	ts.Check(f.Close())
}

// cmdReplace replaces the first occurrence of OLD in a file by NEW: replace FILE OLD NEW.
func cmdReplace(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: replace FILE OLD NEW")
	}
	src := ts.ReadFile(args[0])
	if !strings.Contains(src, args[1]) {
		ts.Fatalf("replace: %q not in %s", args[1], args[0])
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(strings.Replace(src, args[1], args[2], 1)), 0o600))
}
