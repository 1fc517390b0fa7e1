/*
 * funnelkmeans.c: k-means on the coarse prefixes, giving the funnel index's
 * list centroids at build time, and the build's assignment of rows to lists.
 *
 * With many lists, both would cost rows x lists: a Lloyd iteration compares
 * every sample point with every centroid, and the assignment pass every row
 * with every centroid, so with lists growing with the table a build would
 * grow faster than the table.  So from FUNNEL_MIN_GROUPED_LISTS lists on,
 * k-means is hierarchical: the sample is clustered into about sqrt(lists)
 * groups, then each group's points into its share of the lists (in
 * proportion to its points), and the lists are numbered group by group.
 * The build then assigns a row by comparing it with the group centroids
 * and with the lists of its FUNNEL_ASSIGN_GROUPS nearest groups only:
 * about 5 sqrt(lists) distances instead of lists.  A row may so land in a
 * list other than its nearest; the lists' radii are those of their actual
 * members, so the bounds stay bounds.  Inserts keep the exact nearest list
 * (FunnelNearestList), which is one row's cost.
 *
 * Everything here is deterministic (seeds at evenly spaced sample points,
 * ties to the lower number), so parallel workers given the same groups
 * assign every row as the leader would.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "distance.h"
#include "funnel.h"
#include "miscadmin.h"

#define KMEANS_ITERATIONS	6

/*
 * Lists from which k-means and the build's assignment go through groups.
 * Grouped lists are a little worse than flat ones (250,000 real sentences,
 * 500 lists: recall@10 at the same probes and shortlist 0.950 against
 * 0.959), and below this many lists, about sqrt(1M rows), comparing a row
 * with every centroid costs no more than the build's other work per row.
 */
#define FUNNEL_MIN_GROUPED_LISTS	1024

/* Groups whose lists the build's assignment compares a row with. */
#define FUNNEL_ASSIGN_GROUPS	4

/* The nearest of k centroids to x (ties to the lower number). */
static int
NearestCentroid(const float *x, const float *centroids, int k, int dims)
{
	int			best = 0;
	float		bestDist = FLT_MAX;

	for (int c = 0; c < k; c++)
	{
		float		d = mrl_kernels.l2sq(x, centroids + (Size) c * dims, dims);

		if (d < bestDist)
		{
			bestDist = d;
			best = c;
		}
	}
	return best;
}

/*
 * Lloyd's k-means on the n sample points numbered by points (all n in
 * order when NULL): k centroids into centroids, seeded with evenly spaced
 * points.  A centroid that loses all its points stays put.  With nearest,
 * each point's final centroid is left there.
 */
static void
Lloyd(const float *sample, const int64 *points, int64 n, int dims, int k,
	  float *centroids, int *nearest)
{
	double	   *sums = palloc(sizeof(double) * k * dims);
	int64	   *counts = palloc(sizeof(int64) * k);

	for (int c = 0; c < k; c++)
	{
		int64		p = n * c / k;

		memcpy(centroids + (Size) c * dims, sample + (points ? points[p] : p) * dims,
			   sizeof(float) * dims);
	}
	for (int iter = 0; iter < KMEANS_ITERATIONS; iter++)
	{
		memset(sums, 0, sizeof(double) * k * dims);
		memset(counts, 0, sizeof(int64) * k);
		for (int64 i = 0; i < n; i++)
		{
			const float *x = sample + (points ? points[i] : i) * dims;
			int			best;

			if ((i & 255) == 0)
				CHECK_FOR_INTERRUPTS();
			best = NearestCentroid(x, centroids, k, dims);
			counts[best]++;
			for (int j = 0; j < dims; j++)
				sums[(Size) best * dims + j] += x[j];
		}
		for (int c = 0; c < k; c++)
			for (int j = 0; j < dims && counts[c] > 0; j++)
				centroids[(Size) c * dims + j] = (float) (sums[(Size) c * dims + j] / counts[c]);
	}
	for (int64 i = 0; nearest && i < n; i++)
	{
		if ((i & 255) == 0)
			CHECK_FOR_INTERRUPTS();
		nearest[i] = NearestCentroid(sample + (points ? points[i] : i) * dims,
									 centroids, k, dims);
	}
	pfree(sums);
	pfree(counts);
}

/*
 * Share k lists among the groups in proportion to their points (largest
 * remainders first, ties to the lower group), at least one to every group
 * with points, none to an empty one; k >= groups with points.
 */
static void
ShareLists(const int64 *groupPoints, int ngroups, int64 n, int k, int *groupLists)
{
	double	   *remainder = palloc(sizeof(double) * ngroups);
	int			given = 0;

	for (int g = 0; g < ngroups; g++)
	{
		double		share = (double) k * groupPoints[g] / n;

		groupLists[g] = groupPoints[g] > 0 ? Max(1, (int) share) : 0;
		remainder[g] = groupPoints[g] > 0 ? share - groupLists[g] : -DBL_MAX;
		given += groupLists[g];
	}
	while (given < k)
	{
		int			best = 0;

		for (int g = 1; g < ngroups; g++)
			if (remainder[g] > remainder[best])
				best = g;
		groupLists[best]++;
		remainder[best] -= 1.0;
		given++;
	}
	while (given > k)
	{
		int			best = -1;

		/* a group given its one list below its share keeps it */
		for (int g = 0; g < ngroups; g++)
			if (groupLists[g] > 1 && (best < 0 || remainder[g] < remainder[best]))
				best = g;
		groupLists[best]--;
		remainder[best] += 1.0;
		given--;
	}
	pfree(remainder);
}

/*
 * k centroids (k x dims, palloc'd) of the n sample points, by k-means; from
 * FUNNEL_MIN_GROUPED_LISTS lists on hierarchical, with the groups left in
 * *groups (else *groups is NULL).  Requires n >= 1.
 */
float *
FunnelKMeans(const float *sample, int64 n, int dims, int k, FunnelGroups **groups)
{
	float	   *centroids = palloc(sizeof(float) * k * dims);
	int			ngroups = (int) (sqrt((double) k) + 0.5);
	FunnelGroups *gr;
	int		   *nearest;
	int64	   *groupPoints;
	int		   *groupLists;
	int64	   *points;
	int64	   *firstPoint;

	*groups = NULL;
	if (k < FUNNEL_MIN_GROUPED_LISTS || n < k)
	{
		Lloyd(sample, NULL, n, dims, k, centroids, NULL);
		return centroids;
	}

	/* the groups, and each point's group */
	gr = palloc(sizeof(FunnelGroups));
	gr->ngroups = ngroups;
	gr->dims = dims;
	gr->centroids = palloc(sizeof(float) * ngroups * dims);
	gr->firstList = palloc(sizeof(int) * (ngroups + 1));
	nearest = palloc(sizeof(int) * n);
	Lloyd(sample, NULL, n, dims, ngroups, gr->centroids, nearest);

	/* the points of each group, in sample order, and its lists */
	groupPoints = palloc0(sizeof(int64) * ngroups);
	for (int64 i = 0; i < n; i++)
		groupPoints[nearest[i]]++;
	groupLists = palloc(sizeof(int) * ngroups);
	ShareLists(groupPoints, ngroups, n, k, groupLists);
	firstPoint = palloc(sizeof(int64) * (ngroups + 1));
	firstPoint[0] = 0;
	gr->firstList[0] = 0;
	for (int g = 0; g < ngroups; g++)
	{
		firstPoint[g + 1] = firstPoint[g] + groupPoints[g];
		gr->firstList[g + 1] = gr->firstList[g] + groupLists[g];
		groupPoints[g] = 0;		/* now the points placed so far */
	}
	points = palloc(sizeof(int64) * n);
	for (int64 i = 0; i < n; i++)
		points[firstPoint[nearest[i]] + groupPoints[nearest[i]]++] = i;

	/* each group's points into its lists */
	for (int g = 0; g < ngroups; g++)
		if (groupLists[g] > 0)
			Lloyd(sample, points + firstPoint[g], groupPoints[g], dims, groupLists[g],
				  centroids + (Size) gr->firstList[g] * dims, NULL);

	pfree(nearest);
	pfree(groupPoints);
	pfree(groupLists);
	pfree(firstPoint);
	pfree(points);
	*groups = gr;
	return centroids;
}

/*
 * The list the build puts a row of this prefix in: with groups, the
 * nearest list of the FUNNEL_ASSIGN_GROUPS groups with the nearest
 * centroids; without, the nearest list.
 */
int
FunnelAssignList(const FunnelGroups *groups, const FunnelList *dir,
				 const FunnelMetaPageData *meta, const float *prefix)
{
	int			near[FUNNEL_ASSIGN_GROUPS];
	float		nearDist[FUNNEL_ASSIGN_GROUPS];
	int			nnear = 0;
	int			best = 0;
	float		bestDist = FLT_MAX;

	if (groups == NULL)
		return FunnelNearestList(dir, meta, prefix, 0, meta->nlists, NULL);

	/* the nearest groups, ascending, by insertion (ties: the lower first) */
	for (int g = 0; g < groups->ngroups; g++)
	{
		float		d;
		int			at;

		if (groups->firstList[g + 1] == groups->firstList[g])
			continue;
		d = mrl_kernels.l2sq(prefix, groups->centroids + (Size) g * groups->dims,
							 groups->dims);
		if (nnear == FUNNEL_ASSIGN_GROUPS && d >= nearDist[nnear - 1])
			continue;
		at = nnear < FUNNEL_ASSIGN_GROUPS ? nnear++ : nnear - 1;
		for (; at > 0 && nearDist[at - 1] > d; at--)
		{
			near[at] = near[at - 1];
			nearDist[at] = nearDist[at - 1];
		}
		near[at] = g;
		nearDist[at] = d;
	}

	/* the nearest of their lists (ties: the lower number) */
	for (int i = 0; i < nnear; i++)
	{
		float		d;
		int			l = FunnelNearestList(dir, meta, prefix, groups->firstList[near[i]],
										  groups->firstList[near[i] + 1], &d);

		if (d < bestDist || (d == bestDist && l < best))
		{
			bestDist = d;
			best = l;
		}
	}
	return best;
}

/* Bytes of the groups as FunnelGroupsSave writes them. */
Size
FunnelGroupsSize(const FunnelGroups *groups)
{
	return MAXALIGN(sizeof(int) * 2) +
		MAXALIGN(sizeof(float) * groups->ngroups * groups->dims) +
		sizeof(int) * (groups->ngroups + 1);
}

/* Copy the groups to dst (a parallel build's shared memory). */
void
FunnelGroupsSave(const FunnelGroups *groups, char *dst)
{
	((int *) dst)[0] = groups->ngroups;
	((int *) dst)[1] = groups->dims;
	dst += MAXALIGN(sizeof(int) * 2);
	memcpy(dst, groups->centroids, sizeof(float) * groups->ngroups * groups->dims);
	dst += MAXALIGN(sizeof(float) * groups->ngroups * groups->dims);
	memcpy(dst, groups->firstList, sizeof(int) * (groups->ngroups + 1));
}

/* The groups FunnelGroupsSave wrote at src, pointing into it. */
FunnelGroups *
FunnelGroupsLoad(char *src)
{
	FunnelGroups *groups = palloc(sizeof(FunnelGroups));

	groups->ngroups = ((int *) src)[0];
	groups->dims = ((int *) src)[1];
	src += MAXALIGN(sizeof(int) * 2);
	groups->centroids = (float *) src;
	src += MAXALIGN(sizeof(float) * groups->ngroups * groups->dims);
	groups->firstList = (int *) src;
	return groups;
}
