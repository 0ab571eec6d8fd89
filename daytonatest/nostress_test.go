//go:build unix && !stress

package daytonatest_test

// stress is set by the stress build tag (go test -tags stress), which
// .ci/run uses: the stress, soak and size tests then run at full scale
// (see README, "Tests").
const stress = false
