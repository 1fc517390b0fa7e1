/*
 * downstream.c: folds, kNN and logistic-regression classifiers, k-means and
 * their scores (see downstream.h).
 */
#include "downstream.h"

#include "blas.h"
#include "errors.h"
#include "evaluate.h"
#include "rng.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LBFGS_MEMORY 10			/* correction pairs kept by L-BFGS */
#define LBFGS_MAX_HALVINGS 60	/* backtracking steps before giving up */
#define KMEANS_BLOCK_ROWS 4096	/* rows scored against the centroids at once */

/* Has the caller asked to stop? */
static int
cancelled(const mrl_ds_cancel *cancel)
{
	return cancel && cancel->requested && cancel->requested(cancel->arg);
}

void
mrl_unit_prefix(const float *X, int n, int stride, int d, float *out)
{
	for (int i = 0; i < n; i++)
	{
		const float *x = X + (size_t) i * stride;
		float	   *o = out + (size_t) i * d;
		double		ss = 0.0;
		float		inv;

		for (int k = 0; k < d; k++)
			ss += (double) x[k] * x[k];
		inv = ss > 0 ? (float) (1.0 / sqrt(ss)) : 0.0f;
		for (int k = 0; k < d; k++)
			o[k] = x[k] * inv;
	}
}

/* ---------- folds ---------- */

int
mrl_stratified_folds(const int32_t *label, int n, int n_classes, int folds,
					 uint64_t seed, int32_t *fold)
{
	int32_t    *order = malloc(sizeof(int32_t) * (n > 0 ? n : 1));
	int		   *next = calloc(n_classes > 0 ? n_classes : 1, sizeof(int));
	int			start = 0;

	if (order == NULL || next == NULL)
	{
		free(order);
		free(next);
		return MRL_DS_ENOMEM;
	}
	if (folds < 1 || n_classes < 1)
	{
		free(order);
		free(next);
		return MRL_DS_EINVAL;
	}
	/* each class starts dealing where the previous classes' rows stopped */
	for (int i = 0; i < n; i++)
		next[label[i]]++;
	for (int c = 0; c < n_classes; c++)
	{
		int			count = next[c];

		next[c] = start;
		start = (start + count) % folds;
	}
	rng_permutation(&seed, order, n);
	for (int i = 0; i < n; i++)
	{
		int			c = label[order[i]];

		fold[order[i]] = next[c];
		next[c] = (next[c] + 1) % folds;
	}
	free(order);
	free(next);
	return MRL_DS_OK;
}

/* ---------- k nearest neighbours ---------- */

/* The class with the most votes among the ranked neighbours (ties: lowest). */
static int32_t
vote(const int32_t *neighbour, int k, const int32_t *label, int *votes, int n_classes)
{
	int32_t		best = 0;

	memset(votes, 0, sizeof(int) * n_classes);
	for (int j = 0; j < k; j++)
		votes[label[neighbour[j]]]++;
	for (int c = 1; c < n_classes; c++)
		if (votes[c] > votes[best])
			best = c;
	return best;
}

int
mrl_knn_predict(const float *train, const int32_t *train_label, int n_train,
				const float *test, int n_test, int d, int k, int n_classes,
				int batch, int32_t *pred, const mrl_ds_cancel *cancel)
{
	float	   *S;
	int32_t    *neighbour;
	int		   *votes;
	int			rc = MRL_DS_OK;

	if (n_train < 1 || d < 1 || k < 1 || n_classes < 1 || batch < 1)
		return MRL_DS_EINVAL;
	k = k < n_train ? k : n_train;
	batch = batch < n_test ? batch : (n_test > 0 ? n_test : 1);
	S = malloc(sizeof(float) * (size_t) batch * n_train);
	neighbour = malloc(sizeof(int32_t) * k);
	votes = malloc(sizeof(int) * n_classes);
	if (S == NULL || neighbour == NULL || votes == NULL)
		rc = MRL_DS_ENOMEM;
	for (int t0 = 0; rc == MRL_DS_OK && t0 < n_test; t0 += batch)
	{
		int			nb = n_test - t0 < batch ? n_test - t0 : batch;

		if (cancelled(cancel))
		{
			rc = MRL_DS_CANCELLED;
			break;
		}
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, n_train, d,
					1.0f, test + (size_t) t0 * d, d, train, d, 0.0f, S, n_train);
		for (int i = 0; i < nb; i++)
		{
			int			found = mrl_topk(S + (size_t) i * n_train, n_train, k, neighbour);

			pred[t0 + i] = vote(neighbour, found, train_label, votes, n_classes);
		}
	}
	free(S);
	free(neighbour);
	free(votes);
	return rc;
}

/* ---------- multinomial logistic regression ---------- */

/* The problem L-BFGS minimises: rows, labels and the scratch for one pass. */
typedef struct logreg_problem
{
	const double *X;			/* [n][d] */
	const int32_t *y;
	int			n,
				d,
				n_classes;
	double		reg;			/* 1 / (C n): the per-row objective's L2 weight */
	double	   *Z;				/* [n][n_classes] scores, then P - Y */
} logreg_problem;

/*
 * The per-row objective (1/n) sum CE + reg/2 |W|^2 at theta
 * ([n_classes][d + 1], intercepts last) and its gradient g.
 */
static double
logreg_objective(const logreg_problem *lp, const double *theta, double *g)
{
	int			n = lp->n,
				d = lp->d,
				c = lp->n_classes,
				w = d + 1;
	double		loss = 0.0,
				penalty = 0.0;

	/* Z = X W^T + b */
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, c, d, 1.0, lp->X, d,
				theta, w, 0.0, lp->Z, c);
	for (int i = 0; i < n; i++)
	{
		double	   *z = lp->Z + (size_t) i * c;
		double		zmax = -DBL_MAX,
					sum = 0.0;

		for (int k = 0; k < c; k++)
		{
			z[k] += theta[(size_t) k * w + d];
			zmax = z[k] > zmax ? z[k] : zmax;
		}
		for (int k = 0; k < c; k++)
			sum += exp(z[k] - zmax);
		loss += zmax + log(sum) - z[lp->y[i]];
		/* softmax minus the one-hot label, over n: the scores' gradient */
		for (int k = 0; k < c; k++)
			z[k] = (exp(z[k] - zmax) / sum - (k == lp->y[i])) / n;
	}
	/* g_W = (P - Y)^T X / n + reg W; g_b = column sums of (P - Y) / n */
	cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, c, d, n, 1.0, lp->Z, c,
				lp->X, d, 0.0, g, w);
	for (int k = 0; k < c; k++)
	{
		double		gb = 0.0;

		for (int i = 0; i < n; i++)
			gb += lp->Z[(size_t) i * c + k];
		g[(size_t) k * w + d] = gb;
		for (int j = 0; j < d; j++)
		{
			double		wkj = theta[(size_t) k * w + j];

			g[(size_t) k * w + j] += lp->reg * wkj;
			penalty += wkj * wkj;
		}
	}
	return loss / n + 0.5 * lp->reg * penalty;
}

static double
dot(const double *a, const double *b, size_t n)
{
	double		s = 0.0;

	for (size_t i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

static double
max_abs(const double *a, size_t n)
{
	double		m = 0.0;

	for (size_t i = 0; i < n; i++)
		m = fabs(a[i]) > m ? fabs(a[i]) : m;
	return m;
}

/*
 * dir = -H g by the L-BFGS two-loop recursion over the stored pairs
 * (s, y), oldest first at position (first + j) % LBFGS_MEMORY.
 */
static void
lbfgs_direction(const double *g, size_t P, double *const *s, double *const *y,
				const double *rho, int first, int stored, double *dir)
{
	double		alpha[LBFGS_MEMORY];
	double		gamma = 1.0;

	for (size_t i = 0; i < P; i++)
		dir[i] = -g[i];
	for (int j = stored - 1; j >= 0; j--)
	{
		int			m = (first + j) % LBFGS_MEMORY;

		alpha[j] = rho[m] * dot(s[m], dir, P);
		for (size_t i = 0; i < P; i++)
			dir[i] -= alpha[j] * y[m][i];
	}
	if (stored > 0)
	{
		int			last = (first + stored - 1) % LBFGS_MEMORY;

		gamma = dot(s[last], y[last], P) / dot(y[last], y[last], P);
	}
	for (size_t i = 0; i < P; i++)
		dir[i] *= gamma;
	for (int j = 0; j < stored; j++)
	{
		int			m = (first + j) % LBFGS_MEMORY;
		double		beta = rho[m] * dot(y[m], dir, P);

		for (size_t i = 0; i < P; i++)
			dir[i] += (alpha[j] - beta) * s[m][i];
	}
}

/*
 * Minimise lp's objective from theta (updated in place) by L-BFGS with a
 * backtracking (Armijo) line search.  work holds 4 P + 2 LBFGS_MEMORY P
 * doubles.
 */
static int
lbfgs(const logreg_problem *lp, double *theta, size_t P, int max_iter, double tol,
	  double *work, int *iterations, const mrl_ds_cancel *cancel)
{
	double	   *g = work,
			   *dir = g + P,
			   *trial = dir + P,
			   *g_trial = trial + P;
	double	   *s[LBFGS_MEMORY],
			   *y[LBFGS_MEMORY],
				rho[LBFGS_MEMORY];
	double		f = logreg_objective(lp, theta, g);
	int			first = 0,
				stored = 0,
				it;

	for (int m = 0; m < LBFGS_MEMORY; m++)
	{
		s[m] = g_trial + P + (size_t) 2 * m * P;
		y[m] = s[m] + P;
	}
	for (it = 0; it < max_iter && max_abs(g, P) > tol; it++)
	{
		double		step = 1.0,
					slope,
					f_trial = f;
		int			halvings;

		if (cancelled(cancel))
			return MRL_DS_CANCELLED;
		lbfgs_direction(g, P, s, y, rho, first, stored, dir);
		slope = dot(g, dir, P);
		if (!(slope < 0))		/* not a descent direction: restart */
		{
			stored = 0;
			for (size_t i = 0; i < P; i++)
				dir[i] = -g[i];
			slope = -dot(g, g, P);
		}
		if (stored == 0)		/* first step: at most unit length */
			step = fmin(1.0, 1.0 / sqrt(-slope));
		for (halvings = 0; halvings < LBFGS_MAX_HALVINGS; halvings++, step *= 0.5)
		{
			for (size_t i = 0; i < P; i++)
				trial[i] = theta[i] + step * dir[i];
			f_trial = logreg_objective(lp, trial, g_trial);
			if (f_trial <= f + 1e-4 * step * slope)
				break;
		}
		if (halvings == LBFGS_MAX_HALVINGS || !(f_trial < f))
			break;				/* no decrease left at double precision */
		{
			int			m = stored < LBFGS_MEMORY ? (first + stored) % LBFGS_MEMORY : first;
			double		sy;

			for (size_t i = 0; i < P; i++)
			{
				s[m][i] = trial[i] - theta[i];
				y[m][i] = g_trial[i] - g[i];
			}
			sy = dot(s[m], y[m], P);
			if (sy > 1e-12 * dot(y[m], y[m], P))	/* keeps H positive definite */
			{
				rho[m] = 1.0 / sy;
				if (stored < LBFGS_MEMORY)
					stored++;
				else
					first = (first + 1) % LBFGS_MEMORY;
			}
		}
		memcpy(theta, trial, sizeof(double) * P);
		memcpy(g, g_trial, sizeof(double) * P);
		f = f_trial;
	}
	if (iterations)
		*iterations = it;
	return MRL_DS_OK;
}

int
mrl_logreg_fit(const float *X, const int32_t *y, int n, int d, int n_classes,
			   double C, int max_iter, double tol, double *W, int *iterations,
			   const mrl_ds_cancel *cancel, char *err, size_t errlen)
{
	size_t		P = (size_t) n_classes * (d + 1);
	logreg_problem lp;
	double	   *Xd,
			   *work;
	int			rc;
	const char *blas_error;

	if (n < 1 || d < 1 || n_classes < 2 || !(C > 0) || max_iter < 0)
		return MRL_FAIL(MRL_DS_EINVAL, "logistic regression needs rows, >= 2 classes and C > 0");
	for (int i = 0; i < n; i++)
		if (y[i] < 0 || y[i] >= n_classes)
			return MRL_FAIL(MRL_DS_EINVAL, "label %d of row %d is not a class number", y[i], i);
	if ((blas_error = mrl_blas_load()) != NULL)
		return MRL_FAIL(MRL_DS_EINVAL, "%s", blas_error);
	Xd = malloc(sizeof(double) * ((size_t) n * d + (size_t) n * n_classes));
	work = malloc(sizeof(double) * (4 + 2 * LBFGS_MEMORY) * P);
	if (Xd == NULL || work == NULL)
	{
		free(Xd);
		free(work);
		return MRL_FAIL(MRL_DS_ENOMEM, "out of memory for logistic regression");
	}
	for (size_t i = 0; i < (size_t) n * d; i++)
		Xd[i] = X[i];
	lp.X = Xd;
	lp.y = y;
	lp.n = n;
	lp.d = d;
	lp.n_classes = n_classes;
	lp.reg = 1.0 / (C * n);
	lp.Z = Xd + (size_t) n * d;
	memset(W, 0, sizeof(double) * P);
	rc = lbfgs(&lp, W, P, max_iter, tol, work, iterations, cancel);
	free(Xd);
	free(work);
	if (rc == MRL_DS_CANCELLED)
		mrl_errf(err, errlen, "cancelled");
	return rc;
}

int
mrl_logreg_predict(const double *W, int d, int n_classes, const float *X, int n,
				   int32_t *pred)
{
	if (d < 1 || n_classes < 1)
		return MRL_DS_EINVAL;
	for (int i = 0; i < n; i++)
	{
		const float *x = X + (size_t) i * d;
		double		best = -INFINITY;

		pred[i] = 0;
		for (int k = 0; k < n_classes; k++)
		{
			const double *w = W + (size_t) k * (d + 1);
			double		z = w[d];

			for (int j = 0; j < d; j++)
				z += w[j] * x[j];
			if (z > best)
			{
				best = z;
				pred[i] = k;
			}
		}
	}
	return MRL_DS_OK;
}

/* ---------- k-means ---------- */

/* Squared distance of two d-vectors, in double. */
static double
sq_dist(const float *a, const float *b, int d)
{
	double		s = 0.0;

	for (int j = 0; j < d; j++)
	{
		double		t = (double) a[j] - b[j];

		s += t * t;
	}
	return s;
}

/* A row drawn with probability proportional to weight[] (uniformly if all are 0). */
static int
draw_row(const double *weight, int n, double total, uint64_t *rng)
{
	double		target;

	if (!(total > 0))
		return (int) rng_below(rng, (uint64_t) n);
	target = rng_uniform(rng) * total;
	for (int i = 0; i < n; i++)
		if ((target -= weight[i]) < 0)
			return i;
	return n - 1;
}

/*
 * Greedy k-means++ seeding: the first centroid is a random row; each next
 * one is the best of 2 + ln k candidate rows drawn with probability
 * proportional to their squared distance to the nearest centroid so far
 * (best: the smallest sum of those distances once it is added).  nearest
 * [n] is scratch.
 */
static void
kmeanspp(const float *X, int n, int d, int k, uint64_t *rng, float *centroid,
		 double *nearest)
{
	int			candidates = 2 + (int) log(k);
	double		total = 0.0;

	memcpy(centroid, X + rng_below(rng, (uint64_t) n) * d, sizeof(float) * d);
	for (int i = 0; i < n; i++)
		total += nearest[i] = sq_dist(X + (size_t) i * d, centroid, d);
	for (int c = 1; c < k; c++)
	{
		int			best = -1;
		double		best_total = INFINITY;

		for (int t = 0; t < candidates; t++)
		{
			int			row = draw_row(nearest, n, total, rng);
			double		sum = 0.0;

			for (int i = 0; i < n; i++)
				sum += fmin(nearest[i], sq_dist(X + (size_t) i * d, X + (size_t) row * d, d));
			if (sum < best_total)
			{
				best_total = sum;
				best = row;
			}
		}
		memcpy(centroid + (size_t) c * d, X + (size_t) best * d, sizeof(float) * d);
		total = 0.0;
		for (int i = 0; i < n; i++)
			total += nearest[i] = fmin(nearest[i], sq_dist(X + (size_t) i * d, centroid + (size_t) c * d, d));
	}
}

/*
 * Assign every row to its nearest centroid (ties to the lower one) by
 * |x|^2 - 2 x.c + |c|^2 from one sgemm per block of rows; dist[i] receives
 * the squared distance.  Returns the number of rows that changed cluster.
 */
static long
assign_rows(const float *X, const float *x_sq, int n, int d, const float *centroid,
			int k, float *c_sq, float *S, int32_t *assign, double *dist)
{
	long		changed = 0;

	for (int c = 0; c < k; c++)
		c_sq[c] = cblas_sdot(d, centroid + (size_t) c * d, 1, centroid + (size_t) c * d, 1);
	for (int i0 = 0; i0 < n; i0 += KMEANS_BLOCK_ROWS)
	{
		int			nb = n - i0 < KMEANS_BLOCK_ROWS ? n - i0 : KMEANS_BLOCK_ROWS;

		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, k, d, 1.0f,
					X + (size_t) i0 * d, d, centroid, d, 0.0f, S, k);
		for (int i = 0; i < nb; i++)
		{
			int32_t		best = 0;
			float		best_dist = FLT_MAX;

			for (int c = 0; c < k; c++)
			{
				float		dc = x_sq[i0 + i] - 2.0f * S[(size_t) i * k + c] + c_sq[c];

				if (dc < best_dist)
				{
					best_dist = dc;
					best = c;
				}
			}
			changed += assign[i0 + i] != best;
			assign[i0 + i] = best;
			dist[i0 + i] = best_dist > 0 ? best_dist : 0.0;
		}
	}
	return changed;
}

/*
 * Move each centroid to the mean of its rows; a cluster left empty takes
 * the row farthest from its own centroid.  sum [k][d] and count [k] are
 * scratch.
 */
static void
update_centroids(const float *X, int n, int d, int k, int32_t *assign, double *dist,
				 float *centroid, double *sum, int *count)
{
	memset(sum, 0, sizeof(double) * (size_t) k * d);
	memset(count, 0, sizeof(int) * k);
	for (int i = 0; i < n; i++)
	{
		const float *x = X + (size_t) i * d;
		double	   *s = sum + (size_t) assign[i] * d;

		count[assign[i]]++;
		for (int j = 0; j < d; j++)
			s[j] += x[j];
	}
	for (int c = 0; c < k; c++)
	{
		if (count[c] == 0)
		{
			int			far = -1;

			/* some cluster holds two rows or more, since k <= n */
			for (int i = 0; i < n; i++)
				if (count[assign[i]] > 1 && (far < 0 || dist[i] > dist[far]))
					far = i;
			count[assign[far]]--;
			for (int j = 0; j < d; j++)
				sum[(size_t) assign[far] * d + j] -= X[(size_t) far * d + j];
			assign[far] = c;
			dist[far] = 0;
			count[c] = 1;
			for (int j = 0; j < d; j++)
				sum[(size_t) c * d + j] = X[(size_t) far * d + j];
		}
	}
	for (int c = 0; c < k; c++)
		for (int j = 0; j < d; j++)
			centroid[(size_t) c * d + j] = (float) (sum[(size_t) c * d + j] / count[c]);
}

int
mrl_kmeans(const float *X, int n, int d, int k, int restarts, int max_iter,
		   uint64_t seed, int32_t *assign, double *inertia,
		   const mrl_ds_cancel *cancel)
{
	int			block = n < KMEANS_BLOCK_ROWS ? n : KMEANS_BLOCK_ROWS;
	float	   *centroid = malloc(sizeof(float) * (size_t) k * d),
			   *x_sq = malloc(sizeof(float) * n),
			   *c_sq = malloc(sizeof(float) * k),
			   *S = malloc(sizeof(float) * (size_t) block * k);
	double	   *dist = malloc(sizeof(double) * n),
			   *sum = malloc(sizeof(double) * (size_t) k * d);
	int		   *count = malloc(sizeof(int) * k);
	int32_t    *current = malloc(sizeof(int32_t) * n);
	double		best = INFINITY;
	int			rc = MRL_DS_OK;

	if (n < 1 || d < 1 || k < 1 || k > n || restarts < 1 || max_iter < 1)
		rc = MRL_DS_EINVAL;
	else if (!centroid || !x_sq || !c_sq || !S || !dist || !sum || !count || !current)
		rc = MRL_DS_ENOMEM;
	else if (mrl_blas_load() != NULL)
		rc = MRL_DS_EINVAL;
	for (int i = 0; rc == MRL_DS_OK && i < n; i++)
		x_sq[i] = cblas_sdot(d, X + (size_t) i * d, 1, X + (size_t) i * d, 1);
	for (int r = 0; rc == MRL_DS_OK && r < restarts; r++)
	{
		uint64_t	rng = seed + (uint64_t) r * 0x9E3779B97F4A7C15ULL;
		double		total = 0.0;

		kmeanspp(X, n, d, k, &rng, centroid, dist);
		for (int i = 0; i < n; i++)
			current[i] = -1;
		for (int it = 0; it < max_iter; it++)
		{
			if (cancelled(cancel))
			{
				rc = MRL_DS_CANCELLED;
				break;
			}
			if (assign_rows(X, x_sq, n, d, centroid, k, c_sq, S, current, dist) == 0 && it > 0)
				break;
			update_centroids(X, n, d, k, current, dist, centroid, sum, count);
		}
		if (rc != MRL_DS_OK)
			break;
		/* the inertia of the final assignment, exactly */
		update_centroids(X, n, d, k, current, dist, centroid, sum, count);
		for (int i = 0; i < n; i++)
			total += sq_dist(X + (size_t) i * d, centroid + (size_t) current[i] * d, d);
		if (total < best)
		{
			best = total;
			memcpy(assign, current, sizeof(int32_t) * n);
		}
	}
	if (inertia && rc == MRL_DS_OK)
		*inertia = best;
	free(centroid);
	free(x_sq);
	free(c_sq);
	free(S);
	free(dist);
	free(sum);
	free(count);
	free(current);
	return rc;
}

/* ---------- scores ---------- */

int
mrl_classification_scores(const int32_t *truth, const int32_t *pred, int n,
						  int n_classes, double *accuracy, double *macro_f1)
{
	int		   *tp = calloc((size_t) 3 * (n_classes > 0 ? n_classes : 1), sizeof(int));
	int		   *fp = tp + n_classes,
			   *fn = fp + n_classes;
	int			correct = 0,
				present = 0;
	double		f1 = 0.0;

	if (tp == NULL)
		return MRL_DS_ENOMEM;
	if (n < 1 || n_classes < 1)
	{
		free(tp);
		return MRL_DS_EINVAL;
	}
	for (int i = 0; i < n; i++)
	{
		if (truth[i] < 0 || truth[i] >= n_classes || pred[i] < 0 || pred[i] >= n_classes)
		{
			free(tp);
			return MRL_DS_EINVAL;
		}
		if (truth[i] == pred[i])
		{
			correct++;
			tp[truth[i]]++;
		}
		else
		{
			fn[truth[i]]++;
			fp[pred[i]]++;
		}
	}
	/* F1 = 2 TP / (2 TP + FP + FN), over classes seen in truth or predictions */
	for (int c = 0; c < n_classes; c++)
		if (tp[c] + fp[c] + fn[c] > 0)
		{
			f1 += 2.0 * tp[c] / (2.0 * tp[c] + fp[c] + fn[c]);
			present++;
		}
	*accuracy = (double) correct / n;
	*macro_f1 = f1 / present;
	free(tp);
	return MRL_DS_OK;
}

/* Entropy (nats) of a distribution given as counts summing to n. */
static double
entropy(const int64_t *count, int m, double n)
{
	double		h = 0.0;

	for (int i = 0; i < m; i++)
		if (count[i] > 0)
			h -= count[i] / n * log(count[i] / n);
	return h;
}

int
mrl_clustering_scores(const int32_t *label, int n_labels, const int32_t *cluster,
					  int n_clusters, int n, double *nmi, double *ari)
{
	int64_t    *table,
			   *a,
			   *b;
	int			used_a = 0,
				used_b = 0;
	double		mi = 0.0,
				sum_sq = 0.0,
				sum_a = 0.0,
				sum_b = 0.0,
				tp,
				fp,
				fn,
				tn;

	if (n < 1 || n_labels < 1 || n_clusters < 1)
		return MRL_DS_EINVAL;
	table = calloc((size_t) n_labels * n_clusters + n_labels + n_clusters, sizeof(int64_t));
	if (table == NULL)
		return MRL_DS_ENOMEM;
	a = table + (size_t) n_labels * n_clusters;
	b = a + n_labels;
	for (int i = 0; i < n; i++)
	{
		if (label[i] < 0 || label[i] >= n_labels || cluster[i] < 0 || cluster[i] >= n_clusters)
		{
			free(table);
			return MRL_DS_EINVAL;
		}
		table[(size_t) label[i] * n_clusters + cluster[i]]++;
		a[label[i]]++;
		b[cluster[i]]++;
	}
	for (int i = 0; i < n_labels; i++)
	{
		used_a += a[i] > 0;
		sum_a += (double) a[i] * a[i];
		for (int j = 0; j < n_clusters; j++)
		{
			double		nij = table[(size_t) i * n_clusters + j];

			if (nij > 0)
				mi += nij / n * log(nij * n / ((double) a[i] * b[j]));
			sum_sq += nij * nij;
		}
	}
	for (int j = 0; j < n_clusters; j++)
	{
		used_b += b[j] > 0;
		sum_b += (double) b[j] * b[j];
	}

	/* one class and one cluster is a perfect match; otherwise MI 0 is 0 */
	if (used_a == 1 && used_b == 1)
		*nmi = 1.0;
	else if (mi <= 0)
		*nmi = 0.0;
	else
		*nmi = mi / ((entropy(a, n_labels, n) + entropy(b, n_clusters, n)) / 2);

	/* ARI from the pair confusion matrix (ordered pairs) */
	tp = sum_sq - n;
	fp = sum_b - sum_sq;
	fn = sum_a - sum_sq;
	tn = (double) n * n - fp - fn - sum_sq;
	*ari = (fn == 0 && fp == 0) ? 1.0 :
		2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn));
	free(table);
	return MRL_DS_OK;
}
