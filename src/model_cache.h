/*
 * model_cache.h: the backend's loaded models, by path (model_cache.c).
 */
#ifndef MRL_MODEL_CACHE_H
#define MRL_MODEL_CACHE_H

#include "encoder.h"

extern mrl_encoder *MrlLoadModel(const char *path);
extern void MrlModelCacheInit(void);

#endif							/* MRL_MODEL_CACHE_H */
