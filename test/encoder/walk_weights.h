/*
 * walk_weights.h: visit every float array of a loaded model in a fixed
 * order (the order of make_fixtures.flat_weights), for the model tests.
 */
#ifndef MRL_WALK_WEIGHTS_H
#define MRL_WALK_WEIGHTS_H

#include "model.h"

/* Call visit(arg, p, n) for each non-NULL weight array p of n floats. */
static void
walk_weights(const mrl_model *m, void (*visit) (void *arg, const float *p, size_t n), void *arg)
{
	const mrl_bert_config *c = &m->config;
	const mrl_bert_weights *w = &m->weights;
	size_t		e = c->n_embd,
				ff = c->n_ff;
	int			i,
				j;

	visit(arg, w->tok_embd, (size_t) c->n_vocab * e);
	if (c->arch == MRL_ARCH_STATIC)
		return;
	if (w->pos_embd)
		visit(arg, w->pos_embd, (size_t) m->n_ctx_train * e);
	if (w->type_embd)
		visit(arg, w->type_embd, (size_t) c->n_token_types * e);
	visit(arg, w->embd_norm_w, e);
	visit(arg, w->embd_norm_b, e);
	for (i = 0; i < c->n_layer; i++)
	{
		const mrl_bert_layer *l = &w->layers[i];
		const struct
		{
			const float *p;
			size_t		n;
		}			a[] = {
			{l->wq, e * e}, {l->bq, e}, {l->wk, e * e}, {l->bk, e}, {l->wv, e * e},
			{l->bv, e}, {l->wqkv, 3 * e * e}, {l->bqkv, 3 * e}, {l->wo, e * e}, {l->bo, e},
			{l->attn_norm_w, e}, {l->attn_norm_b, e}, {l->ffn_up_w, ff * e}, {l->ffn_up_b, ff},
			{l->ffn_gate_w, ff * e}, {l->ffn_down_w, e * ff}, {l->ffn_down_b, e},
			{l->ffn_norm_w, e}, {l->ffn_norm_b, e},
		};

		for (j = 0; j < (int) (sizeof(a) / sizeof(a[0])); j++)
			if (a[j].p)
				visit(arg, a[j].p, a[j].n);
	}
}

#endif							/* MRL_WALK_WEIGHTS_H */
