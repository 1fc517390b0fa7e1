/*
 * tokenizer.h: BERT WordPiece tokenizer with the semantics of Hugging Face
 * `tokenizers` (BertNormalizer, BertPreTokenizer, WordPiece, Template/Bert
 * post-processing, right or left truncation), loaded from a tokenizer.json
 * or from a plain vocabulary array (the form stored in GGUF files).
 *
 * Errors are reported as NULL / -1 plus a message in a caller buffer; the
 * library never aborts.  A loaded tokenizer is immutable, so one object may
 * be shared by concurrent encoders.  No PostgreSQL headers here.
 */
#ifndef MRL_TOKENIZER_H
#define MRL_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

typedef struct mrl_tokenizer mrl_tokenizer;

/* GGUF tokenizer.ggml.token_type values that matter here */
#define MRL_GGUF_TOKEN_NORMAL 1
#define MRL_GGUF_TOKEN_CONTROL 3

/*
 * Settings for a tokenizer built from a bare vocabulary (GGUF files).
 * mrl_wordpiece_config_init() fills in the bert-base-uncased defaults.
 */
typedef struct mrl_wordpiece_config
{
	int			lowercase;		/* BertNormalizer.lowercase */
	int			strip_accents;	/* 1, 0, or -1 = "null": follow lowercase */
	int			clean_text;
	int			handle_chinese_chars;
	int			max_input_chars_per_word;	/* longer words become [UNK] */
	int32_t		unk_id;			/* -1: look up "[UNK]" */
	int32_t		cls_id;			/* -1: look up "[CLS]"; -2: no [CLS] */
	int32_t		sep_id;			/* -1: look up "[SEP]"; -2: no [SEP] */
	int			gguf_phantom_space; /* tokens are in the GGUF rewrite form */
} mrl_wordpiece_config;

/* The ids of one encoded text; reusable across calls, free with mrl_encoding_free */
typedef struct mrl_encoding
{
	int32_t    *ids;
	int32_t    *type_ids;		/* token_type ids (0 for a single text) */
	int			n;				/* number of tokens; attention covers all n */
	int			cap;			/* allocated length of ids and type_ids */
} mrl_encoding;

/* Loaders (NULL on error, message in err) */
extern mrl_tokenizer *mrl_tokenizer_load_file(const char *path,
											  char *err, size_t errlen);
extern mrl_tokenizer *mrl_tokenizer_load_json(const char *json, size_t len,
											  char *err, size_t errlen);
extern void mrl_wordpiece_config_init(mrl_wordpiece_config *cfg);
extern mrl_tokenizer *mrl_tokenizer_from_vocab(const char *const *tokens,
											   int n_tokens,
											   const int32_t *token_types,
											   const mrl_wordpiece_config *cfg,
											   char *err, size_t errlen);
/* A vocab.txt (one token per line, id = line number); cfg as above */
extern mrl_tokenizer *mrl_tokenizer_load_vocab_txt(const char *path,
												   const mrl_wordpiece_config *cfg,
												   char *err, size_t errlen);
extern void mrl_tokenizer_free(mrl_tokenizer *tok);

/*
 * Undo the GGUF converter's rewrite of one WordPiece token: "▁the" -> "the",
 * "ing" -> "##ing", control tokens unchanged.  token_type is the GGUF
 * token_type or 0 if unknown (then "[...]" counts as a control token).
 * Writes a NUL-terminated string; returns its length, or -1 if out is small.
 */
extern int	mrl_wordpiece_unphantom(const char *token, size_t len,
									int token_type, char *out, size_t outcap);

/*
 * Tokenize UTF-8 text (len bytes, need not be NUL-terminated) into
 * [CLS] pieces [SEP].  max_len > 0 keeps the first max_len tokens counting
 * the special tokens (right truncation, as sentence-transformers does);
 * max_len == 0 applies the tokenizer.json "truncation" block, if any.
 * Returns the token count, or -1 with a message (invalid UTF-8, max_len too
 * small for the special tokens, out of memory).
 *
 * The text is read a chunk of about 64 kB at a time, cut where no token
 * can change (see tokenizer.c), and reading stops once max_len is reached:
 * memory is proportional to the tokens kept, not to the text, and bytes
 * after that point are not read (nor checked for valid UTF-8).
 */
extern int	mrl_tokenizer_encode(const mrl_tokenizer *tok,
								 const char *text, size_t len, int max_len,
								 mrl_encoding *out, char *err, size_t errlen);

/*
 * The same tokens, a chunk at a time, for callers that consume them as
 * they come (a static model pools a text of any length in constant
 * memory): out receives the word pieces of the next chunk of text from
 * byte *pos (no special tokens, no truncation) and *pos moves past it.
 * Start with *pos = 0 and call again while *pos < len; the pieces of all
 * the calls are those mrl_tokenizer_encode gives between the special
 * tokens.  Returns the count (0 for a chunk of white space, or at the
 * end), or -1 with a message.
 */
extern int	mrl_tokenizer_encode_chunk(const mrl_tokenizer *tok,
									   const char *text, size_t len, size_t *pos,
									   mrl_encoding *out, char *err, size_t errlen);
extern void mrl_encoding_free(mrl_encoding *enc);

/* Inspection */
extern int	mrl_tokenizer_vocab_size(const mrl_tokenizer *tok);
extern const char *mrl_tokenizer_id_to_token(const mrl_tokenizer *tok, int32_t id);
extern int32_t mrl_tokenizer_token_to_id(const mrl_tokenizer *tok,
										 const char *token, size_t len);
/* Special tokens the post-processor puts before and after a text's pieces */
extern void mrl_tokenizer_specials(const mrl_tokenizer *tok, int *before, int *after);
/* The tokenizer.json truncation length (0: none), applied when max_len is 0 */
extern int	mrl_tokenizer_max_length(const mrl_tokenizer *tok);
extern int32_t mrl_tokenizer_unk_id(const mrl_tokenizer *tok);

#endif							/* MRL_TOKENIZER_H */
