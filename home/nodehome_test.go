package home

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenHomeRefusesAnotherNodesPolicy: the runtime's Open refuses a key policy written for
// another node, while OpenNodeHome opens it, so that `puente policy check` can report it.
func TestOpenHomeRefusesAnotherNodesPolicy(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "n")
	if _, err := InitHome(ctx, dir, InitOptions{Node: "us-cbp"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := HomeConfig(dir)
	if err != nil || cfg == nil {
		t.Fatalf("config: %v", err)
	}
	if _, err := Open(ctx, cfg); err != nil {
		t.Fatalf("Open of a fresh node: %v", err)
	}
	pf := cfg.Path(cfg.Policy)
	b, err := os.ReadFile(pf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pf, []byte(strings.Replace(string(b), `node = "us-cbp"`, `node = "co-migracion"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, cfg); err == nil || !strings.Contains(err.Error(), `is for node "co-migracion", this node is "us-cbp"`) {
		t.Errorf("Open with another node's policy: %v", err)
	}
	h, err := OpenNodeHome(ctx, dir, true)
	if err != nil {
		t.Fatalf("OpenNodeHome with another node's policy: %v", err)
	}
	defer h.Close()
	if h.Policy.Node != "co-migracion" || h.Name != "us-cbp" {
		t.Errorf("opened policy of %q for node %q", h.Policy.Node, h.Name)
	}
}
