package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// researchOnly are the packages and modules the node binary must not link:
// the researchers' code (cmd/puente-lab's) and the plotting it draws with.
var researchOnly = []string{
	"github.com/puente-id/puente/internal/evaluation",
	"github.com/puente-id/puente/internal/perf",
	"github.com/puente-id/puente/internal/lfw",
	"gonum.org/v1/plot",
	"codeberg.org/go-latex/latex",
	"codeberg.org/go-pdf/fpdf",
	"github.com/golang/freetype",
	// The Kubernetes API types and YAML decoding validate deploy/kubernetes in CI only.
	"k8s.io",
	"sigs.k8s.io/yaml",
}

// TestNodeBinaryDependencies lists what the node binary links (go list
// -deps, with and without the INSECURE test parameter sets' tag) and fails
// if any of it is research code or plotting.
func TestNodeBinaryDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the node binary's dependencies: %v", err)
	}
	for _, tags := range []string{"", "puente_testparams"} {
		out, err := exec.Command(goTool, "list", "-deps", "-tags", tags, "-f", "{{.ImportPath}}", ".").Output()
		if err != nil {
			t.Fatalf("go list -deps -tags %q: %v", tags, err)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 50 || !slices.Contains(deps, "github.com/puente-id/puente/protocol") {
			t.Fatalf("go list -deps -tags %q listed %d packages without the protocol package: not the node binary's list", tags, len(deps))
		}
		for _, d := range deps {
			for _, bad := range researchOnly {
				if d == bad || strings.HasPrefix(d, bad+"/") {
					t.Errorf("with tags %q the node binary links %s (research code or plotting: cmd/puente-lab's)", tags, d)
				}
			}
		}
	}
}
