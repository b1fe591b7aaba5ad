// Command puente-lab holds the researchers' tools, apart from the node
// binary (cmd/puente), which links none of them:
//
//   - eval: the accuracy and privacy evaluation of the cancellable templates
//     and of protected and encrypted matching, written as the Markdown
//     report docs/evaluation.md with its PNG figures (internal/evaluation);
//   - bench: encrypted search beside the plaintext scan of the same gallery
//     (internal/perf), the figures of docs/performance.md.
//
// # Exit codes
//
//	0  success
//	1  the command failed (one line on stderr; -v for the cause chain)
//	2  bad usage: unknown subcommand, bad flag or argument
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Exit codes, documented in the package comment.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// command is one subcommand of puente-lab.
type command struct {
	name, summary string
	examples      []string // shown by -h, one invocation per line
	// run parses args with fs (which holds -v already) and does the work;
	// it returns a usageError for bad usage.
	run func(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error
}

// commands are puente-lab's subcommands, in the order -h lists them.
var commands = []*command{evalCommand, benchCommand}

// stdio carries the streams and -v to a subcommand, so that tests run
// commands in process with their own buffers.
type stdio struct {
	out, err io.Writer
	verbose  bool
}

// usageError reports bad usage: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &stdio{out: os.Stdout, err: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run dispatches args to a subcommand and turns its error into an exit
// code.
func run(ctx context.Context, st *stdio, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		listCommands(st.out)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	var cmd *command
	for _, c := range commands {
		if c.name == args[0] {
			cmd = c
		}
	}
	if cmd == nil {
		fmt.Fprintf(st.err, "puente-lab: unknown command %q (run 'puente-lab -h' for the list; the node's commands are puente's)\n", args[0])
		return exitUsage
	}
	fs := flag.NewFlagSet("puente-lab "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported below, on one line
	fs.BoolVar(&st.verbose, "v", false, "verbose: progress on stderr, and the cause chain of an error")
	err := cmd.run(ctx, st, fs, args[1:])
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintf(st.err, "Usage: puente-lab %s [flags]\n\n%s\n\nExamples:\n  %s\n\nFlags:\n", cmd.name, cmd.summary, strings.Join(cmd.examples, "\n  "))
		fs.SetOutput(st.err)
		fs.PrintDefaults()
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(st.err, "puente-lab %s: %s (run 'puente-lab %s -h' for help)\n", cmd.name, ue.msg, cmd.name)
		return exitUsage
	}
	fmt.Fprintf(st.err, "puente-lab %s: %s\n", cmd.name, strings.ReplaceAll(err.Error(), "\n", " "))
	if st.verbose {
		for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
			fmt.Fprintf(st.err, "  caused by: %s\n", e)
		}
	}
	return exitFailure
}

// parse parses args with fs and returns the positional arguments; a bad
// flag is a usageError.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usagef("%v", err)
	}
	return fs.Args(), nil
}

func listCommands(w io.Writer) {
	fmt.Fprint(w, "puente-lab: the researchers' tools for Puente (the node binary is puente)\n\n"+
		"Usage: puente-lab COMMAND [flags]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-5s  %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'puente-lab COMMAND -h' for a command's flags and examples.\n"+
		"Exit codes: 0 success, 1 failure, 2 bad usage.\n")
}
