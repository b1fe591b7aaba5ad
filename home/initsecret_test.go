package home

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInitRefusesExistingKeyFile: a directory that holds no node yet but already holds
// tls/node.key (a file of mode 0644, or a symlink to a file outside the home) got the node's TLS
// private key written into it before: the mode stayed 0644, the symlink was followed (a hostile
// review's finding). Init now refuses, and writes nothing through the file.
func TestInitRefusesExistingKeyFile(t *testing.T) {
	for _, c := range []string{"loose file", "symlink"} {
		t.Run(c, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "us")
			outside := filepath.Join(t.TempDir(), "elsewhere.pem")
			if err := os.MkdirAll(filepath.Join(dir, "tls"), 0o700); err != nil {
				t.Fatal(err)
			}
			key := filepath.Join(dir, "tls", "node.key")
			target := key
			if c == "symlink" {
				target = outside
				if err := os.Symlink(outside, key); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(target, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := InitHome(context.Background(), dir, InitOptions{Node: "us-cbp"}); err == nil || !strings.Contains(err.Error(), "node.key") {
				t.Errorf("init over an existing %s: %v, want a refusal naming node.key", c, err)
			}
			if st, err := os.Stat(target); err != nil || st.Size() != 0 {
				t.Errorf("%s was written through (%v)", target, err)
			}
		})
	}
}

// TestLoadKeyPairRefusesReadableKey: the node refuses a TLS private key that group or others can
// read, as it refuses such an identity file; before, it loaded it without a word.
func TestLoadKeyPairRefusesReadableKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "us")
	if _, err := InitHome(context.Background(), dir, InitOptions{Node: "us-cbp"}); err != nil {
		t.Fatal(err)
	}
	cert, key := filepath.Join(dir, "tls", "node.crt"), filepath.Join(dir, "tls", "node.key")
	if _, err := LoadKeyPair(cert, key); err != nil {
		t.Fatalf("the key init wrote: %v", err)
	}
	if err := os.Chmod(key, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyPair(cert, key); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a key of mode 0640: %v, want a refusal", err)
	}
}
