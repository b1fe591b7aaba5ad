package evaluation

import (
	"fmt"
	"io"
	"math"
	"strings"
)

func pct(v float64) string { return fmt.Sprintf("%.2f%%", 100*v) }

// table writes a Markdown table.
func table(w io.Writer, header []string, rows [][]string) error {
	var b strings.Builder
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|")
	for range header {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func para(w io.Writer, lines ...string) error {
	_, err := io.WriteString(w, strings.Join(lines, "\n")+"\n\n")
	return err
}

func joinG(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, " and ")
}

// count writes n and the singular or plural verb: "1 meets", "3 meet".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func pct3(v float64) string { return fmt.Sprintf("%.3f%%", 100*v) }

// pow2 writes a power of two as "2^-20".
func pow2(v float64) string { return fmt.Sprintf("2^%g", math.Round(100*math.Log2(v))/100) }

func sci(v float64) string { return fmt.Sprintf("%.2e", v) }

// fixed3 writes v with three decimals, without a sign on a value that
// rounds to zero ("0.000", not "-0.000").
func fixed3(v float64) string {
	if math.Abs(v) < 0.0005 {
		v = 0
	}
	return fmt.Sprintf("%.3f", v)
}
