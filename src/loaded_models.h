/*
 * loaded_models.h: the models loaded in this backend, by path (loaded_models.c).
 */
#ifndef MRL_LOADED_MODELS_H
#define MRL_LOADED_MODELS_H

#include "encoder.h"

extern mrl_encoder *MrlLoadModel(const char *path);
extern void MrlLoadedModelsInit(void);

#endif							/* MRL_LOADED_MODELS_H */
