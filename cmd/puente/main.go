// Command puente runs a Puente node and the tools around it: the key
// ceremony with a partner agency, enrolment, hit/no-hit search and 1:1
// verification, the key policy and audit checks a privacy officer runs,
// and the demo. The researchers' evaluation and benchmark are another
// binary, cmd/puente-lab, so that this one links no plotting and no
// research code (TestNodeBinaryDependencies checks it).
//
// Each subcommand lives in its own file and registers itself in [commands]
// from an init function; main only dispatches.
//
// # Exit codes
//
//	0  success
//	1  the command failed (one line on stderr names the file, key or partner)
//	2  bad usage: unknown subcommand, bad flag or missing argument
//	3  a check ran and found problems (policy check, audit verify)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/puente-id/puente/operator"
)

// Exit codes, documented in the package comment and in README.md.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	exitFinding = 3
)

// command is one subcommand of puente.
type command struct {
	name    string // as typed: "policy check" for a nested command
	summary string // one line for the command list
	usage   string // argument synopsis after the name, e.g. "[flags] FILE"
	// examples are shown by -h, one invocation per line.
	examples []string
	// run parses args with fs (already holding the common flags) and does
	// the work. It returns a usageError for bad usage and a findingsError
	// when a check found problems.
	run func(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error
}

// stdio carries the streams and the common flags to a subcommand, so tests
// can run commands in process with their own buffers.
type stdio struct {
	in       io.Reader
	out, err io.Writer
	verbose  bool
}

var commands = map[string]*command{}

// movedToLab names the researchers' commands that left this binary for
// cmd/puente-lab: asking for one says where it went (bad usage, exit 2).
var movedToLab = map[string]bool{"eval": true, "bench": true}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("puente: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// usageError reports bad usage; main prints it with the command's help
// hint and exits with exitUsage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// findingsError reports that a check ran and found problems; the findings
// themselves have already been printed. main exits with exitFinding.
type findingsError struct{ n int }

func (e *findingsError) Error() string {
	if e.n == 1 {
		return "1 problem found"
	}
	return fmt.Sprintf("%d problems found", e.n)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run dispatches args to a subcommand and turns its error into an exit code.
func run(ctx context.Context, st *stdio, args []string) int {
	cmd, rest := lookup(args)
	if cmd == nil {
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			printCommands(st.out)
			if len(args) == 0 {
				return exitUsage
			}
			return exitOK
		}
		if len(args) > 1 && args[0] == "keys" && (args[1] == "contribute" || args[1] == "derive") {
			fmt.Fprintf(st.err, "puente: keys %s is gone: the key ceremony (puente ceremony, with puente serve running on both nodes) draws, seals and derives the contributions\n", args[1])
			return exitUsage
		}
		if movedToLab[args[0]] {
			fmt.Fprintf(st.err, "puente: %s moved to the researchers' binary: puente-lab %s (go run ./cmd/puente-lab %s)\n", args[0], args[0], args[0])
			return exitUsage
		}
		fmt.Fprintf(st.err, "puente: unknown command %q (run 'puente -h' for the list)\n", strings.Join(args[:min(len(args), 2)], " "))
		return exitUsage
	}
	fs := flag.NewFlagSet("puente "+cmd.name, flag.ContinueOnError)
	// The flag package's own messages are not printed: a bad flag becomes a usageError, reported
	// on one line, and -h prints the help below.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.BoolVar(&st.verbose, "v", false, "verbose: print the cause chain of errors and progress detail")
	err := cmd.run(ctx, st, fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(st.err, cmd, fs)
	}
	return report(st, cmd, err)
}

func report(st *stdio, cmd *command, err error) int {
	var ue *usageError
	var fe *findingsError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(st.err, "puente %s: %s (run 'puente %s -h' for help)\n", cmd.name, ue.msg, cmd.name)
		return exitUsage
	case errors.As(err, &fe):
		fmt.Fprintf(st.err, "puente %s: %s\n", cmd.name, fe)
		return exitFinding
	default:
		fmt.Fprintf(st.err, "puente %s: %s\n", cmd.name, oneLine(err, st.verbose))
		return exitFailure
	}
}

// oneLine renders err for a terminal: the whole wrapped message on one line,
// and with verbose the chain of causes, one per line (operator.Causes: the
// same whether the node ran in process or answered over its socket).
func oneLine(err error, verbose bool) string {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	if !verbose {
		return msg
	}
	var b strings.Builder
	b.WriteString(msg)
	for _, c := range operator.Causes(err) {
		fmt.Fprintf(&b, "\n  caused by: %s", strings.ReplaceAll(c, "\n", " "))
	}
	return b.String()
}

// lookup finds the longest registered command name that prefixes args
// ("policy check" before "policy").
func lookup(args []string) (*command, []string) {
	for n := min(len(args), 2); n >= 1; n-- {
		if c, ok := commands[strings.Join(args[:n], " ")]; ok {
			return c, args[n:]
		}
	}
	return nil, args
}

func printCommands(w io.Writer) {
	names := make([]string, 0, len(commands))
	width := 0
	for n := range commands {
		names = append(names, n)
		width = max(width, len(n))
	}
	sort.Strings(names)
	fmt.Fprintln(w, "puente: privacy-preserving hit/no-hit biometric matching between two agencies")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: puente COMMAND [flags] [args]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s  %s\n", width, n, commands[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'puente COMMAND -h' for a command's flags and examples.")
	fmt.Fprintln(w, "Exit codes: 0 success, 1 failure, 2 bad usage, 3 a check found problems.")
}

func printHelp(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: puente %s %s\n\n%s\n", c.name, c.usage, c.summary)
	if len(c.examples) > 0 {
		fmt.Fprintln(w, "\nExamples:")
		for _, e := range c.examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	fmt.Fprintln(w, "\nFlags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// parse parses args with fs and returns the positional arguments, turning a
// flag error into a usageError.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usagef("%v", err)
	}
	return fs.Args(), nil
}
