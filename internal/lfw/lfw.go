// Package lfw loads the LFW face-embedding evaluation set that Puente's
// accuracy and privacy measurements use by default (lfw-dlib128: dlib
// ResNet descriptors of the first 3,200 Labeled Faces in the Wild images,
// with the View-2 pairs both of whose images are present) into a labelled
// set of package dataset, which builds the evaluation protocols from its
// labels as the data set's README describes them: verification, open-set
// hit/no-hit search and unlinkability; the View-2 pairs are its ten-fold
// pairs.
//
// The data is not part of the repository: [FindDataDir] locates it next to
// the module root (../shared/data) or at $PUENTE_DATA. LFW images are for
// research use under the UMass LFW terms.
package lfw

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// EnvDataDir names the environment variable that overrides where the
// evaluation data is.
const EnvDataDir = "PUENTE_DATA"

// ErrNoData reports that the evaluation data directory was not found.
var ErrNoData = errors.New("lfw: evaluation data not found")

// FindDataDir returns the evaluation data directory: $PUENTE_DATA if set,
// else ../shared/data relative to the module root, found by walking up from
// the working directory to the directory holding go.mod. The error wraps
// [ErrNoData] and says where it looked.
func FindDataDir() (string, error) {
	if d := os.Getenv(EnvDataDir); d != "" {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			return "", fmt.Errorf("%w: $%s=%s is not a directory", ErrNoData, EnvDataDir, d)
		}
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoData, err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(filepath.Dir(dir), "shared", "data")
			if st, err := os.Stat(d); err != nil || !st.IsDir() {
				return "", fmt.Errorf("%w: no directory %s next to the module root (set $%s)", ErrNoData, d, EnvDataDir)
			}
			return d, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("%w: no go.mod above %s to find ../shared/data from (set $%s)", ErrNoData, wd, EnvDataDir)
		}
	}
}
