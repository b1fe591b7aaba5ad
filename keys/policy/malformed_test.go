package policy

import (
	"regexp"
	"strings"
	"testing"
)

// TestMalformedPolicies: a malformed policy gives an error that names the file and says what was
// wrong (never "<nil>"), and never a panic.
func TestMalformedPolicies(t *testing.T) {
	base := "node = \"us-cbp\"\nallowed_algorithms = [\"ml-dsa-65\"]\naudit { retention = \"7y\" }\n"
	named := regexp.MustCompile(`^policy: p\.hcl(:\d+)?: .+`)
	for _, src := range []string{
		"", "\x00", "{", "}", "[", "node", "node =", "node = [", `node = "a` + "\n",
		"node = <<EOF\nus-cbp\nEOF\n" + strings.TrimPrefix(base, "node = \"us-cbp\"\n"),
		base + "audit { retention = \"7y\" }\n",
		base + "key \"a\" \"b\" { }\n",
		base + "key { }\n",
		base + "key \"\" { }\n",
		base + "custodian \"x\" = { role = \"r\" }\n",
		base + "limits { refusals_per_source = 1e3 }\n",
		base + "limits { refusals_per_source = 0x10 }\n",
		base + "limits { refusals_per_source = -1 }\n",
		base + "limits { refusals_per_source = 99999999999999999999 }\n",
		base + "partner \"p\" { agreement = \"a\" quota = \"1 per 0m\" }\n",
		base + "partner \"p\" { agreement = \"a\" quota = \"1 per 0\" }\n",
		base + "partner \"p\" { agreement = \"a\"\n quota = \"10 per 1m\"\n quota = \"10 per 1m\" }\n",
		strings.Replace(base, `"7y"`, `"-1d"`, 1),
		strings.Replace(base, `"7y"`, `7`, 1),
		strings.Replace(base, `audit { retention = "7y" }`, `audit = { retention = "7y" }`, 1),
		strings.Replace(base, `audit { retention = "7y" }`, `audit { retention = "7y" audit { } }`, 1),
		base + `"node" = "x"` + "\n",
		base + "key \"a\" { match = \"x\" }\nkey \"a\" { match = \"y\" }\n",
		"/* unterminated comment\n" + base,
		base + "key \"a\" { purpose = \"\\u0000\" }\n",
		base + "key \"a\" { purpose = \"${var.x}\" }\n",
	} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("Parse(%q) panicked: %v", src, r)
				}
			}()
			_, err := Parse([]byte(src), "p.hcl")
			switch {
			case err == nil:
				t.Errorf("Parse(%q) accepted a malformed policy", src)
			case !named.MatchString(err.Error()):
				t.Errorf("Parse(%q): error does not name the file: %v", src, err)
			case strings.Contains(err.Error(), "<nil>"):
				t.Errorf("Parse(%q): error does not say what was wrong: %v", src, err)
			}
		}()
	}
}
