package home

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/hashicorp/hcl/hcl/ast"
	"github.com/hashicorp/hcl/hcl/parser"
	"github.com/hashicorp/hcl/hcl/token"
)

// hclFields is one block of a configuration file: its fields by name, each set at most once and
// each from the block's schema. The first error (with its line) is kept in *err.
type hclFields struct {
	file  string
	line  int
	items map[string]*ast.ObjectItem
	err   *error
}

func (f *hclFields) errorf(pos token.Pos, format string, args ...any) {
	if *f.err == nil {
		line := pos.Line
		if line == 0 {
			line = f.line
		}
		*f.err = fmt.Errorf("protocol: config %s:%d: %s", f.file, line, fmt.Sprintf(format, args...))
	}
}

// parseHCL parses src into its top-level block. A panic of the third-party parser on hostile
// input becomes an error.
func parseHCL(src []byte, file string) (list *ast.ObjectList, err error) {
	defer func() {
		if r := recover(); r != nil {
			list, err = nil, fmt.Errorf("protocol: config %s: the file cannot be parsed as HCL", file)
		}
	}()
	f, err := parser.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("protocol: config %s: %v", file, err)
	}
	list, ok := f.Node.(*ast.ObjectList)
	if !ok {
		return nil, fmt.Errorf("protocol: config %s: not a list of fields and blocks", file)
	}
	return list, nil
}

// newFields collects items, refusing unknown and repeated names; labelled names (blocks with one
// quoted label, like partner "x" { }) are returned separately, in order.
func newFields(file string, line int, items []*ast.ObjectItem, allowed, labelled []string, err *error) (*hclFields, []*ast.ObjectItem) {
	f := &hclFields{file: file, line: line, items: map[string]*ast.ObjectItem{}, err: err}
	var blocks []*ast.ObjectItem
	for _, it := range items {
		name := itemName(it)
		switch {
		case slices.Contains(labelled, name):
			blocks = append(blocks, it)
		case !slices.Contains(allowed, name):
			f.errorf(it.Pos(), "unknown field %q (allowed: %v)", name, append(slices.Clone(allowed), labelled...))
		case f.items[name] != nil:
			f.errorf(it.Pos(), "%s is set twice (first on line %d)", name, f.items[name].Pos().Line)
		case len(it.Keys) != 1:
			f.errorf(it.Pos(), "%s does not take a label", name)
		default:
			f.items[name] = it
		}
	}
	return f, blocks
}

func itemName(it *ast.ObjectItem) string {
	k := it.Keys[0].Token
	if k.Type == token.STRING {
		if s, err := strconv.Unquote(k.Text); err == nil {
			return s
		}
	}
	return k.Text
}

// label returns the one quoted label of a labelled block.
func (f *hclFields) label(it *ast.ObjectItem) (string, bool) {
	if len(it.Keys) != 2 || it.Keys[1].Token.Type != token.STRING {
		f.errorf(it.Pos(), "%s needs one quoted name: %s \"name\" { ... }", itemName(it), itemName(it))
		return "", false
	}
	s, err := strconv.Unquote(it.Keys[1].Token.Text)
	return s, err == nil && s != ""
}

// block returns the body of a nested block field.
func (f *hclFields) block(it *ast.ObjectItem) ([]*ast.ObjectItem, bool) {
	obj, ok := it.Val.(*ast.ObjectType)
	if !ok || it.Assign.IsValid() {
		f.errorf(it.Pos(), "%s must be a block: %s { ... }", itemName(it), itemName(it))
		return nil, false
	}
	return obj.List.Items, true
}

func (f *hclFields) literal(name string, required bool, types ...token.Type) (*ast.LiteralType, bool) {
	it := f.items[name]
	if it == nil {
		if required {
			f.errorf(token.Pos{}, "required field %s is missing", name)
		}
		return nil, false
	}
	lit, ok := it.Val.(*ast.LiteralType)
	if !ok || !slices.Contains(types, lit.Token.Type) {
		return nil, false
	}
	return lit, true
}

func (f *hclFields) str(name string, required bool) string {
	lit, ok := f.literal(name, required, token.STRING)
	if !ok {
		if f.items[name] != nil {
			f.errorf(f.items[name].Pos(), "%s must be a quoted string", name)
		}
		return ""
	}
	s, err := strconv.Unquote(lit.Token.Text)
	if err != nil || (required && s == "") {
		f.errorf(lit.Pos(), "%s must be a non-empty quoted string", name)
	}
	return s
}

func (f *hclFields) boolean(name string) bool {
	lit, ok := f.literal(name, false, token.BOOL)
	if !ok {
		if f.items[name] != nil {
			f.errorf(f.items[name].Pos(), "%s must be true or false", name)
		}
		return false
	}
	return lit.Token.Text == "true"
}

func (f *hclFields) number(name string, required bool, lo, hi float64) float64 {
	lit, ok := f.literal(name, required, token.NUMBER, token.FLOAT)
	if !ok {
		if f.items[name] != nil {
			f.errorf(f.items[name].Pos(), "%s must be a number", name)
		}
		return 0
	}
	v, err := strconv.ParseFloat(lit.Token.Text, 64)
	if err != nil || !(v >= lo && v <= hi) {
		f.errorf(lit.Pos(), "%s = %s: want a number in [%g, %g]", name, lit.Token.Text, lo, hi)
	}
	return v
}

func (f *hclFields) integer(name string, required bool, lo, hi int) int {
	v := f.number(name, required, float64(lo), float64(hi))
	if v != float64(int(v)) {
		f.errorf(f.items[name].Pos(), "%s must be a whole number", name)
	}
	return int(v)
}

func (f *hclFields) strs(name string, required bool) []string {
	it := f.items[name]
	if it == nil {
		if required {
			f.errorf(token.Pos{}, "required field %s is missing", name)
		}
		return nil
	}
	list, ok := it.Val.(*ast.ListType)
	if !ok {
		f.errorf(it.Pos(), "%s must be a list of quoted strings", name)
		return nil
	}
	var out []string
	for _, n := range list.List {
		lit, ok := n.(*ast.LiteralType)
		var s string
		var err error
		if ok && lit.Token.Type == token.STRING {
			s, err = strconv.Unquote(lit.Token.Text)
		}
		if !ok || lit.Token.Type != token.STRING || err != nil || s == "" || slices.Contains(out, s) {
			f.errorf(it.Pos(), "%s must be a list of distinct non-empty quoted strings", name)
			return nil
		}
		out = append(out, s)
	}
	return out
}
