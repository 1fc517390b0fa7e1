/*
 * funnelkmeans.c: k-means on the coarse prefixes, giving the funnel index's
 * list centroids at build time.
 */
#include "postgres.h"

#include <float.h>

#include "distance.h"
#include "funnel.h"
#include "miscadmin.h"

#define KMEANS_ITERATIONS	6

/*
 * Lloyd's k-means on the sample: k centroids, seeded with evenly spaced
 * sample points.  A centroid that loses all its points stays put.
 */
float *
FunnelKMeans(const float *sample, int64 n, int dims, int k)
{
	float	   *centroids = palloc(sizeof(float) * k * dims);
	double	   *sums = palloc(sizeof(double) * k * dims);
	int64	   *counts = palloc(sizeof(int64) * k);

	for (int c = 0; c < k; c++)
		memcpy(centroids + (Size) c * dims, sample + (n * c / k) * dims, sizeof(float) * dims);
	for (int iter = 0; iter < KMEANS_ITERATIONS; iter++)
	{
		memset(sums, 0, sizeof(double) * k * dims);
		memset(counts, 0, sizeof(int64) * k);
		for (int64 i = 0; i < n; i++)
		{
			const float *x = sample + i * dims;
			int			best = 0;
			float		bestDist = FLT_MAX;

			if ((i & 255) == 0)
				CHECK_FOR_INTERRUPTS();
			for (int c = 0; c < k; c++)
			{
				float		d = mrl_kernels.l2sq(x, centroids + (Size) c * dims, dims);

				if (d < bestDist)
				{
					bestDist = d;
					best = c;
				}
			}
			counts[best]++;
			for (int j = 0; j < dims; j++)
				sums[(Size) best * dims + j] += x[j];
		}
		for (int c = 0; c < k; c++)
			for (int j = 0; j < dims && counts[c] > 0; j++)
				centroids[(Size) c * dims + j] = (float) (sums[(Size) c * dims + j] / counts[c]);
	}
	pfree(sums);
	pfree(counts);
	return centroids;
}
