//! Endpointing: voice activity detection turning caller audio into START_OF_INPUT / END_OF_INPUT.
