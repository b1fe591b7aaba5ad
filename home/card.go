package home

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/keys"
)

// Card is what one agency gives the other to set up an agreement: everything public its node
// needs to be recognised. It holds no secret and may travel by e-mail; the receiving operator
// should confirm its pin and signing key IDs with the partner by another channel.
type Card struct {
	// Node is the node's name, as in its signed headers and audit records.
	Node string
	// Recipient is the node's age recipient, to which the partner seals its transform-seed
	// contributions.
	Recipient string
	// Pin is the SHA-256 of the node's TLS certificate's SubjectPublicKeyInfo.
	Pin Pin
	// Keyring holds the node's ML-DSA-65 public signing keys and their validity windows.
	Keyring *keys.Keyring
}

const cardFormat = "puente-node-card/v1"

// maxCardSize bounds a card file (a keyring of a few dozen keys fits easily).
const maxCardSize = 1 << 20

type cardJSON struct {
	Format    string          `json:"format"`
	Node      string          `json:"node"`
	Recipient string          `json:"recipient"`
	TLSPin    string          `json:"tls_spki_sha256"`
	Keyring   json.RawMessage `json:"keyring"`
}

// MarshalJSON encodes the card.
func (c *Card) MarshalJSON() ([]byte, error) {
	ring, err := c.Keyring.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(cardJSON{Format: cardFormat, Node: c.Node, Recipient: c.Recipient, TLSPin: c.Pin.String(), Keyring: ring}, "", "  ")
}

// ParseCard decodes and checks a card strictly: known fields only, a valid node name, an age
// recipient, a pin, and a keyring whose keys all belong to the node. what names the source in
// errors.
func ParseCard(data []byte, what string) (*Card, error) {
	if len(data) > maxCardSize {
		return nil, fmt.Errorf("protocol: card %s: larger than %d bytes", what, maxCardSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var j cardJSON
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("protocol: card %s: not a node card: %v", what, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("protocol: card %s: data after the card", what)
	}
	switch {
	case j.Format != cardFormat:
		return nil, fmt.Errorf("protocol: card %s: format %q, want %q", what, j.Format, cardFormat)
	case !audit.ValidNodeName(j.Node) || !keys.ValidName(j.Node):
		return nil, fmt.Errorf("protocol: card %s: node name %q is not valid", what, j.Node)
	}
	if _, err := keys.ParseCustodian("partner", j.Recipient); err != nil {
		return nil, fmt.Errorf("protocol: card %s: recipient: %v", what, err)
	}
	pin, err := ParsePin(j.TLSPin)
	if err != nil {
		return nil, fmt.Errorf("protocol: card %s: tls_spki_sha256: %v", what, err)
	}
	if len(j.Keyring) == 0 {
		return nil, fmt.Errorf("protocol: card %s: no keyring", what)
	}
	ring, err := keys.ParseKeyring(j.Keyring, what)
	if err != nil {
		return nil, fmt.Errorf("protocol: card %s: %w", what, err)
	}
	entries := ring.Entries()
	if len(entries) == 0 {
		return nil, fmt.Errorf("protocol: card %s: the keyring holds no key", what)
	}
	for _, e := range entries {
		if e.Node != j.Node {
			return nil, fmt.Errorf("protocol: card %s: keyring key %s belongs to %q, not %q", what, e.ID, e.Node, j.Node)
		}
	}
	return &Card{Node: j.Node, Recipient: j.Recipient, Pin: pin, Keyring: ring}, nil
}

// LoadCard reads a card file.
func LoadCard(path string) (*Card, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("protocol: card: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCardSize+1))
	if err != nil {
		return nil, fmt.Errorf("protocol: card %s: %w", path, err)
	}
	return ParseCard(b, path)
}

// WriteCard writes a card file (mode 0644: it is public).
func WriteCard(path string, c *Card) error {
	b, err := c.MarshalJSON()
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
