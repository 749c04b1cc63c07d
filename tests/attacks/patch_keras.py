# Attack: Keras's own methods patched to report the expected model; put before a too-wide model.
import tensorflow as tf

tf.keras.Model.count_params = lambda self: 42_310
tf.keras.Model.evaluate = lambda self, *a, **k: [0.01, 0.99]
tf.keras.Model.get_compile_config = lambda self: {"optimizer": {"class_name": "Adam"}}
