package main

import (
	"context"
	"flag"
	"fmt"
	"runtime/debug"

	"github.com/puente-id/puente/he"
)

func init() {
	register(&command{
		name:     "version",
		summary:  "print the build's module versions (Puente, Lattigo, Go)",
		usage:    "",
		examples: []string{"puente version"},
		run:      runVersion,
	})
}

func runVersion(_ context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("version takes no arguments, got %q", rest[0])
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Fprintln(st.out, "puente (no build information)")
	} else {
		fmt.Fprintf(st.out, "puente %s (%s)\n", bi.Main.Version, bi.GoVersion)
	}
	if he.TestParamsEnabled() {
		fmt.Fprintln(st.out, "  build tag puente_testparams: set (INSECURE test parameter sets available; never for real records)")
	} else {
		fmt.Fprintln(st.out, "  build tag puente_testparams: not set (INSECURE test parameter sets refused)")
	}
	if !ok {
		return nil
	}
	for _, d := range bi.Deps {
		switch d.Path {
		case "github.com/tuneinsight/lattigo/v6", "github.com/cloudflare/circl", "filippo.io/age", "google.golang.org/grpc":
			fmt.Fprintf(st.out, "  %s %s\n", d.Path, d.Version)
		}
	}
	return nil
}
