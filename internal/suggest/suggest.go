// Package suggest finds the "did you mean …?" candidate for a misspelled key: one edit-distance
// search for every configuration reader (Flink configuration, zoo.cfg, ZooKeeper client
// properties), so that they suggest alike.
package suggest

import "strings"

// Closest returns the candidate nearest to k by edit distance (Levenshtein, ignoring case; on a
// tie the lexically smallest), if it is at most maxDist edits away; "" otherwise.
func Closest(k string, candidates []string, maxDist int) string {
	best, bestD := "", maxDist+1
	lk := strings.ToLower(k)
	for _, c := range candidates {
		if d := distance(lk, strings.ToLower(c)); d < bestD || d == bestD && c < best {
			best, bestD = c, d
		}
	}
	return best
}

// distance is the Levenshtein distance of a and b, in bytes.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
