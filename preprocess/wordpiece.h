/*
 * wordpiece.h: the sub-word vocabulary. Words (from normalize.h) are counted over the corpus, per rank,
 * then the counts are merged; the vocabulary is built deterministically from the merged counts, so any
 * number of ranks gives the same vocabulary. Encoding is WordPiece's greedy longest-match-first: a word
 * in the vocabulary is one token; any other word is split into the longest known prefix, then "##"
 * continuation pieces. Every single character seen in the corpus is in the vocabulary both as a word-initial
 * piece and as "##c", so an unseen word made of seen characters always splits into known pieces; only a
 * character never seen becomes [UNK].
 *
 * Building (mir_vocab_build): candidates are (a) whole words with count >= min_word_count and
 * (b) "segments" of all words: a word is cut at character-class changes (letter/digit/other) and before
 * '.', '_' and '-'; the first segment is a word-initial candidate, later ones "##" candidates, each
 * weighted by the word's count; segments with count >= min_piece_count are candidates. The vocabulary is
 * the 5 special tokens, then every seen character (both forms), then the candidates by count descending
 * (ties by byte order), until max_size. Token ids are positions in that order.
 */
#ifndef MIR_WORDPIECE_H
#define MIR_WORDPIECE_H

#include <stddef.h>
#include <stdint.h>

#include "schema.h" /* the special token ids MIR_TOK_* */

/* Spellings of the special tokens, in id order: "[PAD]" "[UNK]" "[CLS]" "[SEP]" "[MASK]". */
extern const char *const mir_special_tokens[MIR_TOK_NSPECIAL];

/* ---- word counter: a string -> int64 hash map ---- */
typedef struct mir_counter mir_counter;
mir_counter *mir_counter_new(void);
void mir_counter_free(mir_counter *c);
void mir_counter_add(mir_counter *c, const char *word, size_t len, int64_t n);
int64_t mir_counter_get(const mir_counter *c, const char *word, size_t len);
size_t mir_counter_size(const mir_counter *c);      /* distinct words */
/* Words left out since the counter was made: it holds at most 2^32 - 2 distinct words (32-bit slots) and words
 * under 4 GiB; past that, mir_counter_add leaves the word out (so the vocabulary misses it) instead of failing.
 * mir_counter_set_max lowers the first limit (tests). */
int64_t mir_counter_dropped(const mir_counter *c);
void mir_counter_set_max(mir_counter *c, size_t max_n);
/* Serialise to a flat byte buffer (for MPI): *buf is malloc'd, *bytes its size. */
void mir_counter_pack(const mir_counter *c, char **buf, size_t *bytes);
/* Add the counts of a packed buffer into c. Returns 0, or -1 if the buffer is malformed. */
int mir_counter_merge_packed(mir_counter *c, const char *buf, size_t bytes);

/* ---- vocabulary ---- */
typedef struct mir_vocab_options {
    int32_t max_size;          /* total tokens including specials and characters (default 8000) */
    int64_t min_word_count;    /* whole-word threshold (default 2) */
    int64_t min_piece_count;   /* segment threshold (default 2) */
} mir_vocab_options;
void mir_vocab_options_default(mir_vocab_options *o);

typedef struct mir_vocab mir_vocab;
mir_vocab *mir_vocab_build(const mir_counter *c, const mir_vocab_options *o);
/* A vocabulary from an explicit token list (e.g. read back from a corpus or model file); counts may be NULL.
 * Returns NULL (and fills err_msg if not NULL, up to err_cap bytes) if the list lacks the special tokens at
 * ids 0..4 or has duplicates. */
mir_vocab *mir_vocab_from_tokens(const char *const *tokens, const int64_t *counts, int32_t n, char *err_msg,
                                 size_t err_cap);
void mir_vocab_free(mir_vocab *v);
int32_t mir_vocab_size(const mir_vocab *v);
const char *mir_vocab_token(const mir_vocab *v, int32_t id);
int64_t mir_vocab_count(const mir_vocab *v, int32_t id);     /* corpus count used to build it (0 if unknown) */
int32_t mir_vocab_lookup(const mir_vocab *v, const char *tok, size_t len); /* -1 if absent */
size_t mir_vocab_max_token_len(const mir_vocab *v);

/* Encode one word into token ids (WordPiece). Writes up to cap ids to out and returns the number the word
 * needs (may exceed cap: call again with more room). A word with an unseen character becomes one [UNK]. */
size_t mir_vocab_encode_word(const mir_vocab *v, const char *word, size_t len, int32_t *out, size_t cap);
/* The id for a whole word used as a graph node's text: the word's own id if in the vocabulary, else the id
 * of its first WordPiece piece, else [UNK]. */
int32_t mir_vocab_word_id(const mir_vocab *v, const char *word, size_t len);

#endif
