// Entry of the TF.js backend-suite bundle: the setup first (test environment, backend), then every tfjs-core test.
import './suite-setup.mjs';
import '@tensorflow/tfjs-core/dist/tests';
