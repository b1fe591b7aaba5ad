// Package home is a node's home directory: the one package that opens and writes a node's
// files. It reads the configuration, puente.hcl ([Config], [LoadConfig]), and honours every
// field of it that names a file: the age identity, the key store (a file store or Vault), the
// key policy, the audit log, the TLS certificate and key, the partners' cards, the shards block.
// The node runtime (package protocol) and every command of cmd/puente that works on a node's
// files reach them through it, and no other package hard-codes their names.
//
// # Layout
//
// A node's home, as [InitHome] makes it (`puente init`); puente.hcl may move the identity, the
// key store, the policy, the audit log, the state file and the operator socket elsewhere:
//
//	node, identity.age, keys/, audit.log   as for `puente keys init` ([InitKeys])
//	puente.hcl         the configuration (see Config)
//	policy.hcl         the key policy (keys/policy)
//	tls/node.key       the TLS private key (ECDSA P-256, mode 0600)
//	tls/node.crt       a self-signed certificate for the node's name, or
//	tls/node.csr       a certificate request for the agency's CA (then install node.crt yourself)
//	card.json          the node card to give partners (see Card)
//	partners/          partners' cards
//	gallery/, he/      galleries and evaluation keys, made as they are needed
//	state.db           replay and quota state
//	run/node.lock      the home's lock ([LockHome])
//	run/admin.sock     the operator socket while `puente serve` runs
//
// Secret files are written with mode 0600 and their directories 0700; a card, a certificate and
// a certificate request are public (0644).
//
// # What it owns
//
//   - The configuration file and its strict parser: a fixed schema, every unknown, repeated or
//     mistyped field an error naming the file and line ([ParseConfig]); the HE parameter sets a
//     configuration may name ([LookupParams]).
//   - Opening a node's keys, for a command while no node runs ([OpenNodeHome]) and for the node
//     runtime ([Open], [OpenStore]), its TLS files ([LoadKeyPair], [LoadCAPool], [CertPin]),
//     and where each of its files is ([HomePaths], [ConfigFile], [NodeName]).
//   - The home's lock: one process at a time opens a node's files, so a second `puente serve`,
//     or a command run beside one, is told a node runs there ([ErrNodeRunning]). The lock is
//     flock(2) on Unix; elsewhere one process per home is the operator's responsibility.
//   - Making a node ([InitHome], [InitKeys]) and changing its partners ([AddPartner],
//     [UpdatePartnerCard]). No command writes the key policy after InitHome: it is the privacy
//     officer's file, and AddPartner returns the block to add to it.
//   - The node card that agencies exchange ([Card], [Pin]; docs/protocol.md).
//
// # What it does not own
//
//   - The wire format: package protocol/wire.
//   - The operator API on the node's unix socket, and the node runtime (the key ceremony,
//     Search and Verify, epochs, the replay and quota state, galleries): package protocol. It
//     opens the node's keys and TLS files through this package ([Open], [LoadKeyPair]) and
//     keeps its runtime's records (the audit log it appends to, state.db, gallery/, he/) at the
//     paths the configuration gives. InitHome makes the state file through
//     [InitOptions].NewState.
//   - The contents of the files it opens: the key store and identity are package keys', the
//     policy keys/policy's, the audit log audit's.
//
// Its errors keep the "protocol:" prefix they had before this package was split out of
// protocol, so that a configuration error reads the same as before.
package home
