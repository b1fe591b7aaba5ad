package protocol

import (
	"sync"

	"github.com/puente-id/puente/keys"
	"github.com/puente-id/puente/protocol/wire"
)

// liveSigner is the node's current signing key, which a rotation or a revocation through the
// running node replaces at once. Whoever signs a message pins the key first (key), so that the
// key ID a header names and the key that signs it are the same; a replaced key is zeroed only
// when the node closes, since a signature in progress may still hold it.
type liveSigner struct {
	mu  sync.RWMutex
	cur *keys.SigningKey
	old []*keys.SigningKey
}

var _ wire.Pinner = (*liveSigner)(nil)

func newLiveSigner(k *keys.SigningKey) *liveSigner { return &liveSigner{cur: k} }

// key returns the current key.
func (s *liveSigner) key() *keys.SigningKey {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cur
}

// ID implements Signer with the current key.
func (s *liveSigner) ID() keys.KeyID { return s.key().ID() }

// Sign implements Signer with the current key.
func (s *liveSigner) Sign(domain string, msg []byte) ([]byte, error) {
	return s.key().Sign(domain, msg)
}

// swap makes k the current key.
func (s *liveSigner) swap(k *keys.SigningKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.old = append(s.old, s.cur)
	s.cur = k
}

// Zero zeroes every key the signer held.
func (s *liveSigner) Zero() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range append(s.old, s.cur) {
		if k != nil {
			k.Zero()
		}
	}
	s.old = nil
}

// Current implements wire.Pinner: the key a signature is made with.
func (s *liveSigner) Current() wire.Signer { return s.key() }
