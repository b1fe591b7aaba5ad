package policy

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"

	"github.com/hashicorp/hcl/hcl/ast"
	"github.com/hashicorp/hcl/hcl/parser"
	"github.com/hashicorp/hcl/hcl/token"

	"github.com/puente-id/puente/keys"
)

// Load reads and parses the policy file at path.
func Load(path string) (*Policy, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return Parse(src, path)
}

// maxPolicySize bounds a policy file.
const maxPolicySize = 1 << 20

// Parse parses a policy; file names it in errors, which have the form
// "policy: FILE:LINE: what was wrong".
func Parse(src []byte, file string) (*Policy, error) {
	if len(src) > maxPolicySize {
		return nil, fmt.Errorf("policy: %s: larger than %d bytes", file, maxPolicySize)
	}
	f, err := parseHCL(src)
	if err != nil {
		return nil, fmt.Errorf("policy: %s: %v", file, err)
	}
	d := &decoder{file: file}
	list, ok := f.Node.(*ast.ObjectList)
	if !ok {
		return nil, fmt.Errorf("policy: %s: not a list of fields and blocks", file)
	}
	p := d.policy(list)
	if d.err != nil {
		return nil, d.err
	}
	p.File = file
	return p, nil
}

// parseHCL runs the HCL v1 parser. It is third-party code: whatever it
// does with hostile input, a bad policy must be an error, not a crash, so a
// panic inside it becomes an error. Puente's own decoding below is not
// covered, so a bug there still shows.
func parseHCL(src []byte) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, errors.New("the file cannot be parsed as HCL")
		}
	}()
	return parser.Parse(src)
}

// decoder walks the HCL syntax tree against Puente's schema and keeps the
// first error.
type decoder struct {
	file string
	err  error
}

func (d *decoder) errorf(pos token.Pos, format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("policy: %s:%d: %s", d.file, pos.Line, fmt.Sprintf(format, args...))
	}
}

func keyText(k *ast.ObjectKey) (string, bool) {
	if k.Token.Type == token.STRING {
		s, err := strconv.Unquote(k.Token.Text)
		return s, err == nil
	}
	return k.Token.Text, k.Token.Type == token.IDENT
}

func (d *decoder) policy(list *ast.ObjectList) *Policy {
	p := &Policy{}
	top := &block{d: d, items: map[string]*ast.ObjectItem{}}
	labels := map[string]map[string]bool{"custodian": {}, "key": {}, "partner": {}}
	for _, it := range list.Items {
		name, _ := keyText(it.Keys[0])
		switch name {
		case "node", "allowed_algorithms":
			top.add(it, name)
		case "audit":
			if top.add(it, name) {
				if b := d.body(it, 1, "retention"); b != nil {
					p.Audit = Audit{Retention: b.period("retention", true), Line: it.Pos().Line}
				}
			}
		case "limits":
			if top.add(it, name) {
				p.Limits = d.limits(it)
			}
		case "custodian", "key", "partner":
			label, ok := d.label(it, name, labels[name])
			if !ok {
				continue
			}
			d.labelled(p, it, name, label)
		default:
			d.errorf(it.Pos(), "unknown field %q (expected node, allowed_algorithms, audit, limits, custodian, key or partner)", name)
		}
	}
	if p.Limits.Line == 0 {
		p.Limits = DefaultLimits
	}
	p.Node = top.str("node", true)
	p.AllowedAlgorithms = top.strs("allowed_algorithms", true)
	if p.Audit.Line == 0 {
		d.errorf(token.Pos{Line: 1}, "no audit block (it sets the retention of audit records)")
	}
	return p
}

// limits reads the limits block; a field left out keeps its default.
func (d *decoder) limits(it *ast.ObjectItem) Limits {
	l := DefaultLimits
	l.Line = it.Pos().Line
	b := d.body(it, 1, "refusal_interval", "refusals_per_source", "call_deadline", "keepalive", "ceremonies")
	if b == nil {
		return l
	}
	for _, f := range []struct {
		name string
		p    *Period
	}{{"refusal_interval", &l.RefusalInterval}, {"call_deadline", &l.CallDeadline}, {"keepalive", &l.Keepalive}} {
		if b.items[f.name] == nil {
			continue
		}
		if p := b.period(f.name, true); p.D > 0 {
			*f.p = p
		} else {
			d.errorf(b.items[f.name].Pos(), "%s must be longer than 0", f.name)
		}
	}
	if it := b.items["refusals_per_source"]; it != nil {
		l.RefusalsPerSource = b.integer("refusals_per_source", 1, 1000000)
	}
	if it := b.items["ceremonies"]; it != nil {
		q, err := ParseQuota(b.str("ceremonies", true))
		if err != nil {
			d.errorf(it.Pos(), "ceremonies: %v", err)
		}
		l.Ceremonies = q
	}
	return l
}

// label returns the one label of a labelled block, refusing duplicates.
func (d *decoder) label(it *ast.ObjectItem, kind string, seen map[string]bool) (string, bool) {
	if len(it.Keys) != 2 {
		d.errorf(it.Pos(), "%s block needs exactly one name, as in %s \"name\" { ... }", kind, kind)
		return "", false
	}
	label, ok := keyText(it.Keys[1])
	if !ok || label == "" {
		d.errorf(it.Pos(), "%s block name must be a quoted string", kind)
		return "", false
	}
	if seen[label] {
		d.errorf(it.Pos(), "%s %q is defined twice", kind, label)
		return "", false
	}
	seen[label] = true
	return label, true
}

func (d *decoder) labelled(p *Policy, it *ast.ObjectItem, kind, label string) {
	line := it.Pos().Line
	switch kind {
	case "custodian":
		if b := d.body(it, 2, "role", "recipient"); b != nil {
			c := Custodian{Name: label, Role: b.str("role", true), Recipient: b.str("recipient", false), Line: line}
			if c.Recipient != "" {
				if _, err := keys.ParseCustodian(label, c.Recipient); err != nil {
					d.errorf(b.items["recipient"].Pos(), "%v", err)
				}
			}
			p.Custodians = append(p.Custodians, c)
		}
	case "key":
		b := d.body(it, 2, "match", "purpose", "algorithm", "custodians", "store", "cryptoperiod", "overlap", "rotation", "revocation")
		if b == nil {
			return
		}
		k := KeyClass{Name: label, Match: b.str("match", true), Purpose: b.str("purpose", true), Algorithm: b.str("algorithm", true),
			Custodians: b.strs("custodians", false), Store: b.str("store", true), Cryptoperiod: b.period("cryptoperiod", true),
			Overlap: b.period("overlap", false), Rotation: b.str("rotation", true), Revocation: b.str("revocation", true), Line: line}
		if k.Store != "" && k.Store != "file" && k.Store != "vault" {
			d.errorf(b.items["store"].Pos(), "store %q: want \"file\" or \"vault\"", k.Store)
		}
		p.Keys = append(p.Keys, k)
	case "partner":
		b := d.body(it, 2, "agreement", "quota", "verify_limit")
		if b == nil {
			return
		}
		pt := Partner{Name: label, Agreement: b.str("agreement", true), Line: line}
		for _, f := range []struct {
			name string
			dst  **Quota
		}{{"quota", &pt.Quota}, {"verify_limit", &pt.VerifyLimit}} {
			if it := b.items[f.name]; it != nil {
				q, err := ParseQuota(b.str(f.name, true))
				if err != nil {
					d.errorf(it.Pos(), "%s: %v", f.name, err)
				}
				*f.dst = &q
			}
		}
		p.Partners = append(p.Partners, pt)
	}
}

// body checks that it is a block (keys counts its name and label) and
// returns its fields, refusing unknown and duplicate ones.
func (d *decoder) body(it *ast.ObjectItem, keys int, allowed ...string) *block {
	obj, ok := it.Val.(*ast.ObjectType)
	if !ok || len(it.Keys) != keys || it.Assign.IsValid() {
		name, _ := keyText(it.Keys[0])
		d.errorf(it.Pos(), "%s must be a block: %s { ... }", name, name)
		return nil
	}
	b := &block{d: d, items: map[string]*ast.ObjectItem{}, pos: it.Pos()}
	for _, f := range obj.List.Items {
		name, _ := keyText(f.Keys[0])
		if !slices.Contains(allowed, name) {
			d.errorf(f.Pos(), "unknown field %q in this block (allowed: %v)", name, allowed)
			continue
		}
		b.add(f, name)
	}
	return b
}

// block holds the fields of one block by name.
type block struct {
	d     *decoder
	items map[string]*ast.ObjectItem
	pos   token.Pos
}

// add records a field, refusing a duplicate or a nested block.
func (b *block) add(it *ast.ObjectItem, name string) bool {
	if prev, dup := b.items[name]; dup {
		b.d.errorf(it.Pos(), "%s is set twice (first on line %d)", name, prev.Pos().Line)
		return false
	}
	if len(it.Keys) != 1 {
		b.d.errorf(it.Pos(), "%s does not take a name", name)
		return false
	}
	b.items[name] = it
	return true
}

func (b *block) missing(name string) {
	line := b.pos.Line
	if line == 0 {
		line = 1
	}
	b.d.errorf(token.Pos{Line: line}, "required field %s is missing", name)
}

func (b *block) str(name string, required bool) string {
	it := b.items[name]
	if it == nil {
		if required {
			b.missing(name)
		}
		return ""
	}
	s, ok := b.d.stringValue(it.Val)
	if !ok || (required && s == "") {
		b.d.errorf(it.Pos(), "%s must be a non-empty quoted string", name)
	}
	return s
}

func (d *decoder) stringValue(n ast.Node) (string, bool) {
	lit, ok := n.(*ast.LiteralType)
	if !ok || lit.Token.Type != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Token.Text)
	return s, err == nil
}

func (b *block) strs(name string, required bool) []string {
	it := b.items[name]
	if it == nil {
		if required {
			b.missing(name)
		}
		return nil
	}
	list, ok := it.Val.(*ast.ListType)
	if !ok {
		b.d.errorf(it.Pos(), "%s must be a list of quoted strings: [\"a\", \"b\"]", name)
		return nil
	}
	var out []string
	for _, n := range list.List {
		s, ok := b.d.stringValue(n)
		if !ok || s == "" {
			b.d.errorf(it.Pos(), "%s must be a list of non-empty quoted strings", name)
			return nil
		}
		if slices.Contains(out, s) {
			b.d.errorf(it.Pos(), "%s lists %q twice", name, s)
		}
		out = append(out, s)
	}
	return out
}

// integer reads a whole number from lo to hi.
func (b *block) integer(name string, lo, hi int) int {
	it := b.items[name]
	lit, ok := it.Val.(*ast.LiteralType)
	if !ok || lit.Token.Type != token.NUMBER {
		b.d.errorf(it.Pos(), "%s must be a whole number", name)
		return 0
	}
	n, err := strconv.Atoi(lit.Token.Text)
	if err != nil || n < lo || n > hi {
		b.d.errorf(it.Pos(), "%s must be a whole number from %d to %d", name, lo, hi)
	}
	return n
}

func (b *block) period(name string, required bool) Period {
	s := b.str(name, required)
	if s == "" {
		return Period{}
	}
	p, err := ParsePeriod(s)
	if err != nil {
		b.d.errorf(b.items[name].Pos(), "%s: %v", name, err)
	}
	return p
}
