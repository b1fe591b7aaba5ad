package protocol

import "github.com/puente-id/puente/internal/crashpoint"

// crashPoint marks a point where the crash tests may kill the process (package crashpoint: only
// a build with the INSECURE test parameter sets can be told to).
func crashPoint(point string) { crashpoint.Reach(point) }
