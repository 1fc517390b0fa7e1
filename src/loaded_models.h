/*
 * loaded_models.h: the models loaded in this backend, by path or content
 * hash (loaded_models.c).
 */
#ifndef MRL_LOADED_MODELS_H
#define MRL_LOADED_MODELS_H

#include "encoder.h"

extern mrl_encoder *MrlLoadModel(const char *path);
extern mrl_encoder *MrlLoadStoredModel(const char *name, const char *sha256, int64 bytes);
extern void MrlCheckStoredModelAt(const char *sha256, const char *dir, mrl_encoder_info *info);
extern void MrlLoadedModelsInit(void);

#endif							/* MRL_LOADED_MODELS_H */
